import type { DiagnosticsStatus } from '../../diagnostics/uploader.js';
import type { ChargePoint } from '../charge-point.js';

interface Request {
  log: { remoteLocation: string; oldestTimestamp?: string; latestTimestamp?: string };
  logType: 'DiagnosticsLog' | 'SecurityLog';
  requestId: number;
  retries?: number;
  retryInterval?: number;
}

const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_INTERVAL_S = 60;

/** The security extension's UploadLogStatus for the uploader's state. */
export function uploadLogStatus(status: DiagnosticsStatus): 'Idle' | 'Uploading' | 'Uploaded' | 'UploadFailure' {
  return status === 'UploadFailed' ? 'UploadFailure' : status;
}

/**
 * GetLog (security extension): GetDiagnostics' path for the whole log or only its security events,
 * each step reported with LogStatusNotification and the request's id. An upload under way is not
 * cancelled (both go on), so the answer is always Accepted.
 */
export function register(cp: ChargePoint): void {
  const uploader = cp.diagnostics;
  if (uploader === null) return;
  cp.rpc.handle('GetLog', (payload) => {
    const { log, logType, requestId, retries, retryInterval } = payload as Request;
    const filename = uploader.upload(
      {
        location: log.remoteLocation,
        retries: Math.max(0, retries ?? DEFAULT_RETRIES),
        retryIntervalS: Math.max(0, retryInterval ?? DEFAULT_RETRY_INTERVAL_S),
        fromMs: log.oldestTimestamp === undefined ? null : cp.clockMs(log.oldestTimestamp),
        toMs: log.latestTimestamp === undefined ? null : cp.clockMs(log.latestTimestamp),
        log: logType === 'SecurityLog' ? 'security' : 'diagnostics',
      },
      (status) => cp.notify('LogStatusNotification', { status: uploadLogStatus(status), requestId }),
    );
    return { status: 'Accepted', filename };
  });
}

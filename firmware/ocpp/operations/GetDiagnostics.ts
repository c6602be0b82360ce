import type { ChargePoint } from '../charge-point.js';

interface Request {
  location: string;
  retries?: number;
  retryInterval?: number;
  startTime?: string;
  stopTime?: string;
}

const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_INTERVAL_S = 60;

/**
 * GetDiagnostics: answered with the file name at once; the logs of the period are packed and
 * uploaded by HTTP, each step reported with DiagnosticsStatusNotification. Not offered without an
 * uploader.
 */
export function register(cp: ChargePoint): void {
  const uploader = cp.diagnostics;
  if (uploader === null) return;
  cp.rpc.handle('GetDiagnostics', (payload) => {
    const { location, retries, retryInterval, startTime, stopTime } = payload as Request;
    const fileName = uploader.upload(
      {
        location,
        retries: Math.max(0, retries ?? DEFAULT_RETRIES),
        retryIntervalS: Math.max(0, retryInterval ?? DEFAULT_RETRY_INTERVAL_S),
        fromMs: startTime === undefined ? null : cp.clockMs(startTime),
        toMs: stopTime === undefined ? null : cp.clockMs(stopTime),
      },
      (status) => cp.notify('DiagnosticsStatusNotification', { status }),
    );
    return { fileName };
  });
}

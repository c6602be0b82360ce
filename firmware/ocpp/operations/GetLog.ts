import type { OcppServices } from '../services.js';
import { boundMs, retryPolicy } from './GetDiagnostics.js';
import * as LogStatusNotification from './LogStatusNotification.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'diagnostics' | 'notifier' | 'rpc' | 'time'>;

/**
 * GetLog (security extension): GetDiagnostics' path for the whole log or only its security events,
 * each step reported with LogStatusNotification and the request's id. An upload under way is not
 * cancelled (both go on), so the answer is always Accepted.
 */
export function register(cp: Deps): void {
  const uploader = cp.diagnostics;
  if (uploader === null) return;
  cp.rpc.handle('GetLog', (payload) => {
    const { log, logType, requestId, retries, retryInterval } = payload;
    const filename = uploader.upload(
      {
        location: log.remoteLocation,
        ...retryPolicy(retries, retryInterval),
        fromMs: boundMs(cp, log.oldestTimestamp),
        toMs: boundMs(cp, log.latestTimestamp),
        log: logType === 'SecurityLog' ? 'security' : 'diagnostics',
      },
      (status) => LogStatusNotification.send(cp, status, requestId),
    );
    return { status: 'Accepted', filename };
  });
}

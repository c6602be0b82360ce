import type { OcppServices } from '../services.js';
import * as DiagnosticsStatusNotification from './DiagnosticsStatusNotification.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'diagnostics' | 'notifier' | 'rpc' | 'time'>;

/** When the central system leaves them out (OCPP: "left to the Charge Point"); UpdateFirmware's too. */
const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_INTERVAL_S = 60;

/** Retries and their interval of a transfer request (GetDiagnostics, GetLog, UpdateFirmware, SignedUpdateFirmware). */
export function retryPolicy(retries: number | undefined, retryInterval: number | undefined): { retries: number; retryIntervalS: number } {
  return { retries: Math.max(0, retries ?? DEFAULT_RETRIES), retryIntervalS: Math.max(0, retryInterval ?? DEFAULT_RETRY_INTERVAL_S) };
}

/** The clock ms of an optional OCPP timestamp (a period's bound), null when not given. */
export function boundMs(cp: Pick<OcppServices, 'time'>, timestamp: string | undefined): number | null {
  return timestamp === undefined ? null : cp.time.clockMs(timestamp);
}

/**
 * GetDiagnostics: answered with the file name at once; the logs of the period are packed and
 * uploaded by HTTP, each step reported with DiagnosticsStatusNotification. Not offered without an
 * uploader.
 */
export function register(cp: Deps): void {
  const uploader = cp.diagnostics;
  if (uploader === null) return;
  cp.rpc.handle('GetDiagnostics', (payload) => {
    const { location, retries, retryInterval, startTime, stopTime } = payload;
    const fileName = uploader.upload(
      {
        location,
        ...retryPolicy(retries, retryInterval),
        fromMs: boundMs(cp, startTime),
        toMs: boundMs(cp, stopTime),
      },
      (status) => DiagnosticsStatusNotification.send(cp, status),
    );
    return { fileName };
  });
}

import type { FirmwareUpdateStatus } from '../../update/updater.js';
import type { OcppServices } from '../services.js';

/** What this message uses. */
export type Deps = Pick<OcppServices, 'notifier'>;

/**
 * SignedFirmwareStatusNotification (security extension, sent by the charge point): a step of a
 * SignedUpdateFirmware with the request's id (none when triggered); waits for Boot Accepted, the
 * latest kept.
 */
export function send(deps: Deps, status: FirmwareUpdateStatus, requestId?: number): Promise<void> {
  return deps.notifier.notify('SignedFirmwareStatusNotification', { status, ...(requestId !== undefined && { requestId }) });
}

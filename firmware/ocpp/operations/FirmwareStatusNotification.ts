import type { RequestOf } from '../messages.js';
import type { OcppServices } from '../services.js';

/** What this message uses. */
export type Deps = Pick<OcppServices, 'notifier'>;

/** OCPP 1.6's FirmwareStatus. */
export type FirmwareStatus16 = RequestOf<'FirmwareStatusNotification'>['status'];

/** FirmwareStatusNotification (sent by the charge point): a step of an UpdateFirmware; waits for Boot Accepted, the latest kept. */
export function send(deps: Deps, status: FirmwareStatus16): Promise<void> {
  return deps.notifier.notify('FirmwareStatusNotification', { status });
}

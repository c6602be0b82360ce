import type { RequestOf } from '../messages.js';
import type { OcppServices } from '../services.js';
import * as DiagnosticsStatusNotification from './DiagnosticsStatusNotification.js';
import * as FirmwareStatusNotification from './FirmwareStatusNotification.js';
import { firmwareState16 } from './UpdateFirmware.js';

/** What this operation uses of the charge point. */
export type TriggerDeps = Pick<
  OcppServices,
  'diagnostics' | 'firmwareUpdates' | 'notifier' | 'rpc' | 'session' | 'settings' | 'status' | 'transactions'
>;

/** A TriggerMessage or an ExtendedTriggerMessage. */
export type TriggerRequest = RequestOf<'TriggerMessage'> | RequestOf<'ExtendedTriggerMessage'>;

/** The answer to a trigger; the message follows the answer. `more` adds the messages only one kind of trigger has. */
export function trigger(
  cp: TriggerDeps,
  request: TriggerRequest,
  more: Record<string, () => void> = {},
): { status: 'Accepted' | 'Rejected' | 'NotImplemented' } {
  const { requestedMessage, connectorId } = request;
  if (connectorId !== undefined && connectorId !== 0 && connectorId !== cp.settings.connectorId) return { status: 'Rejected' };
  const send: Record<string, () => void> = {
    BootNotification: () => void cp.session.bootNotification(),
    Heartbeat: () => void cp.session.heartbeat().catch(() => {}),
    StatusNotification: () => cp.status.resendStatus(connectorId),
    MeterValues: () => cp.transactions.meter.sampleNow(),
    DiagnosticsStatusNotification: () => void DiagnosticsStatusNotification.send(cp, cp.diagnostics?.status ?? 'Idle'),
    // Idle unless an update is downloading or installing (1.6 §5.17).
    FirmwareStatusNotification: () => void FirmwareStatusNotification.send(cp, firmwareState16(cp.firmwareUpdates?.status ?? 'Idle')),
    ...more,
  };
  const action = send[requestedMessage];
  if (!action) return { status: 'NotImplemented' };
  setImmediate(action);
  return { status: 'Accepted' };
}

/** TriggerMessage: Accepted, and the message follows the answer. */
export function register(cp: TriggerDeps): void {
  cp.rpc.handle('TriggerMessage', (payload) => trigger(cp, payload));
}

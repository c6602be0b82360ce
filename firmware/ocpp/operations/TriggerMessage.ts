import type { ChargePoint } from '../charge-point.js';
import { firmwareState16 } from './UpdateFirmware.js';

interface Request {
  requestedMessage: string;
  connectorId?: number;
}

/** TriggerMessage: Accepted, and the message follows the answer. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('TriggerMessage', (payload) => {
    const { requestedMessage, connectorId } = payload as Request;
    if (connectorId !== undefined && connectorId !== 0 && connectorId !== cp.settings.connectorId) return { status: 'Rejected' };
    const send: Record<string, () => void> = {
      BootNotification: () => void cp.bootNotificationNow(),
      Heartbeat: () => void cp.heartbeat().catch(() => {}),
      StatusNotification: () => cp.resendStatus(connectorId),
      MeterValues: () => cp.transactions.sampleNow(),
      DiagnosticsStatusNotification: () => void cp.notify('DiagnosticsStatusNotification', { status: cp.diagnostics?.status ?? 'Idle' }),
      // Idle unless an update is downloading or installing (1.6 §5.17).
      FirmwareStatusNotification: () => void cp.notify('FirmwareStatusNotification', { status: firmwareState16(cp.firmwareUpdates?.status ?? 'Idle') }),
    };
    const action = send[requestedMessage];
    if (!action) return { status: 'NotImplemented' };
    setImmediate(action);
    return { status: 'Accepted' };
  });
}

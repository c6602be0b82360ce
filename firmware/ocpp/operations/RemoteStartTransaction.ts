import type { ChargePoint } from '../charge-point.js';
import type { ChargingProfile } from '../model/charging-profile.js';

interface Request {
  connectorId?: number;
  idTag: string;
  chargingProfile?: ChargingProfile;
}

/**
 * RemoteStartTransaction: Accepted when this connector can start one; the start follows
 * (CONTRACT §5). A charging profile must be a TxProfile the charge point can honour; it becomes
 * the transaction's.
 */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('RemoteStartTransaction', (payload) => {
    const { connectorId, idTag, chargingProfile } = payload as Request;
    if (connectorId !== undefined && connectorId !== cp.settings.connectorId) return { status: 'Rejected' };
    if (chargingProfile !== undefined) {
      const problem =
        chargingProfile.chargingProfilePurpose !== 'TxProfile'
          ? 'not a TxProfile'
          : cp.smartCharging.problem({ connectorId: cp.settings.connectorId, profile: chargingProfile }, { transactionId: null });
      if (problem !== null) {
        cp.log.warn('RemoteStartTransaction: charging profile rejected', { problem });
        return { status: 'Rejected' };
      }
    }
    return { status: cp.transactions.remoteStart(idTag, chargingProfile ?? null) };
  });
}

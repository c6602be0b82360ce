import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'log' | 'rpc' | 'settings' | 'smartCharging' | 'transactions'>;

/**
 * RemoteStartTransaction: Accepted when this connector can start one; the start follows
 * (CONTRACT §5). A charging profile must be a TxProfile the charge point can honour; it becomes
 * the transaction's.
 */
export function register(cp: Deps): void {
  cp.rpc.handle('RemoteStartTransaction', (payload) => {
    const { connectorId, idTag, chargingProfile } = payload;
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

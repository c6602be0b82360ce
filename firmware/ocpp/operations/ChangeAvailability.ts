import type { Availability, ChargePoint } from '../charge-point.js';

/** ChangeAvailability: Inoperative during a transaction is Scheduled until it ends. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('ChangeAvailability', async (payload) => {
    const { connectorId, type } = payload as { connectorId: number; type: Availability };
    if (connectorId !== 0 && connectorId !== cp.settings.connectorId) return { status: 'Rejected' };
    return { status: await cp.changeAvailability(type) };
  });
}

import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'availability' | 'rpc' | 'settings'>;

/** ChangeAvailability: Inoperative during a transaction is Scheduled until it ends. */
export function register(cp: Deps): void {
  cp.rpc.handle('ChangeAvailability', async (payload) => {
    const { connectorId, type } = payload;
    if (connectorId !== 0 && connectorId !== cp.settings.connectorId) return { status: 'Rejected' };
    return { status: await cp.availability.change(type) };
  });
}

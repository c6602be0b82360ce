import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'rpc' | 'smartCharging'>;

/** ClearChargingProfile: by id, or by connector, purpose and stack level; Unknown when nothing matched. */
export function register(cp: Deps): void {
  cp.rpc.handle('ClearChargingProfile', async (payload) => ({ status: await cp.smartCharging.clear(payload) }));
}

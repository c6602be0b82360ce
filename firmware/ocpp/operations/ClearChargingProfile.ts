import type { ChargePoint } from '../charge-point.js';
import type { ClearCriteria } from '../model/charging-profile.js';

/** ClearChargingProfile: by id, or by connector, purpose and stack level; Unknown when nothing matched. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('ClearChargingProfile', async (payload) => ({ status: await cp.smartCharging.clear(payload as ClearCriteria) }));
}

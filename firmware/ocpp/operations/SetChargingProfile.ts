import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'rpc' | 'smartCharging'>;

/** SetChargingProfile: Accepted and in force at once, or Rejected when the charge point cannot honour it. */
export function register(cp: Deps): void {
  cp.rpc.handle('SetChargingProfile', async (payload) => {
    const { connectorId, csChargingProfiles } = payload;
    return { status: await cp.smartCharging.set(connectorId, csChargingProfiles) };
  });
}

import type { ChargePoint } from '../charge-point.js';
import type { ChargingProfile } from '../model/charging-profile.js';

interface Request {
  connectorId: number;
  csChargingProfiles: ChargingProfile;
}

/** SetChargingProfile: Accepted and in force at once, or Rejected when the charge point cannot honour it. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('SetChargingProfile', async (payload) => {
    const { connectorId, csChargingProfiles } = payload as Request;
    return { status: await cp.smartCharging.set(connectorId, csChargingProfiles) };
  });
}

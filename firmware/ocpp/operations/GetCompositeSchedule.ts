import type { ChargePoint } from '../charge-point.js';
import type { ChargingRateUnit } from '../model/charging-profile.js';

interface Request {
  connectorId: number;
  duration: number;
  chargingRateUnit?: ChargingRateUnit;
}

/** GetCompositeSchedule: the limits in force from now, in the unit asked for (A when none). */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('GetCompositeSchedule', (payload) => {
    const { connectorId, duration, chargingRateUnit } = payload as Request;
    if (duration < 0) return { status: 'Rejected' };
    return cp.smartCharging.composite(connectorId, duration, chargingRateUnit);
  });
}

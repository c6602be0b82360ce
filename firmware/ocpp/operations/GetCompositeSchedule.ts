import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'rpc' | 'smartCharging'>;

/** GetCompositeSchedule: the limits in force from now, in the unit asked for (A when none). */
export function register(cp: Deps): void {
  cp.rpc.handle('GetCompositeSchedule', (payload) => {
    const { connectorId, duration, chargingRateUnit } = payload;
    if (duration < 0) return { status: 'Rejected' };
    return cp.smartCharging.composite(connectorId, duration, chargingRateUnit);
  });
}

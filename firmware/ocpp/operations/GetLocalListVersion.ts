import type { ChargePoint } from '../charge-point.js';

/** GetLocalListVersion: -1 when the local list is disabled. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('GetLocalListVersion', () => ({
    listVersion: cp.configuration.flag('LocalAuthListEnabled') ? cp.authorization.listVersion : -1,
  }));
}

import type { ChargePoint } from '../charge-point.js';

/** ClearCache: empties the authorisation cache (the local list stays). */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('ClearCache', async () => {
    await cp.authorization.clearCache();
    return { status: 'Accepted' };
  });
}

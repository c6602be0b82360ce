import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'authorization' | 'rpc'>;

/** ClearCache: empties the authorisation cache (the local list stays). */
export function register(cp: Deps): void {
  cp.rpc.handle('ClearCache', async () => {
    await cp.authorization.clearCache();
    return { status: 'Accepted' };
  });
}

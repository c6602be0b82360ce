import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'authorization' | 'configuration' | 'rpc'>;

/** GetLocalListVersion: -1 when the local list is disabled. */
export function register(cp: Deps): void {
  cp.rpc.handle('GetLocalListVersion', () => ({
    listVersion: cp.configuration.flag('LocalAuthListEnabled') ? cp.authorization.listVersion : -1,
  }));
}

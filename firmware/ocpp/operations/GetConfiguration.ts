import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'configuration' | 'rpc'>;

/** GetConfiguration: the keys asked for (all when none) and the unknown ones. */
export function register(cp: Deps): void {
  cp.rpc.handle('GetConfiguration', (payload) => {
    const { known, unknown } = cp.configuration.entries(payload.key);
    return { configurationKey: known, ...(unknown.length > 0 && { unknownKey: unknown }) };
  });
}

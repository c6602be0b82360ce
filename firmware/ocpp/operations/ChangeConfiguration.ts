import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'configuration' | 'rpc'>;

/** ChangeConfiguration: unknown keys NotSupported, read-only keys and bad values Rejected. */
export function register(cp: Deps): void {
  cp.rpc.handle('ChangeConfiguration', async (payload) => {
    const { key, value } = payload;
    return { status: await cp.configuration.change(key, value) };
  });
}

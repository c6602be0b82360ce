import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'rpc'>;

/** DataTransfer: no vendor extensions are defined. */
export function register(cp: Deps): void {
  cp.rpc.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
}

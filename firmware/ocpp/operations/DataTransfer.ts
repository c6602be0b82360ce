import type { ChargePoint } from '../charge-point.js';

/** DataTransfer: no vendor extensions are defined. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
}

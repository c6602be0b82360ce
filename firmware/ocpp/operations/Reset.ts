import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'reset' | 'rpc'>;

/** Reset: Accepted; after the answer the transaction stops (SoftReset / HardReset) and the box boots its OCPP session anew. */
export function register(cp: Deps): void {
  cp.rpc.handle('Reset', (payload) => {
    const { type } = payload;
    setImmediate(() => void cp.reset(type));
    return { status: 'Accepted' };
  });
}

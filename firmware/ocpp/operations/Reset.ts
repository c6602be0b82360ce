import type { ChargePoint } from '../charge-point.js';

/** Reset: Accepted; after the answer the transaction stops (SoftReset / HardReset) and the box boots its OCPP session anew. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('Reset', (payload) => {
    const { type } = payload as { type: 'Soft' | 'Hard' };
    setImmediate(() => void cp.reset(type));
    return { status: 'Accepted' };
  });
}

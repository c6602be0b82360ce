import type { ChargePoint } from '../charge-point.js';

/** ChangeConfiguration: unknown keys NotSupported, read-only keys and bad values Rejected. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('ChangeConfiguration', async (payload) => {
    const { key, value } = payload as { key: string; value: string };
    return { status: await cp.configuration.change(key, value) };
  });
}

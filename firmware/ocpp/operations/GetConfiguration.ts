import type { ChargePoint } from '../charge-point.js';

/** GetConfiguration: the keys asked for (all when none) and the unknown ones. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('GetConfiguration', (payload) => {
    const { known, unknown } = cp.configuration.entries((payload as { key?: string[] }).key);
    return { configurationKey: known, ...(unknown.length > 0 && { unknownKey: unknown }) };
  });
}

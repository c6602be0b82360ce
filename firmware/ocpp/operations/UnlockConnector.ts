import type { ChargePoint } from '../charge-point.js';

/** UnlockConnector: a running transaction stops (UnlockCommand), then the plug is released. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('UnlockConnector', async (payload) => {
    if ((payload as { connectorId: number }).connectorId !== cp.settings.connectorId) return { status: 'NotSupported' };
    await cp.transactions.stop('UnlockCommand');
    return { status: await cp.charging.unlockConnector() };
  });
}

import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'charging' | 'rpc' | 'settings' | 'transactions'>;

/** UnlockConnector: a running transaction stops (UnlockCommand), then the plug is released. */
export function register(cp: Deps): void {
  cp.rpc.handle('UnlockConnector', async (payload) => {
    if (payload.connectorId !== cp.settings.connectorId) return { status: 'NotSupported' };
    await cp.transactions.stop('UnlockCommand');
    return { status: await cp.charging.unlockConnector() };
  });
}

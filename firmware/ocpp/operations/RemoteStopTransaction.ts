import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'rpc' | 'transactions'>;

/** RemoteStopTransaction: stops the running transaction with reason Remote. */
export function register(cp: Deps): void {
  cp.rpc.handle('RemoteStopTransaction', (payload) => ({
    status: cp.transactions.remoteStop(payload.transactionId),
  }));
}

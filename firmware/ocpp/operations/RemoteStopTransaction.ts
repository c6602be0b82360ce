import type { ChargePoint } from '../charge-point.js';

/** RemoteStopTransaction: stops the running transaction with reason Remote. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('RemoteStopTransaction', (payload) => ({
    status: cp.transactions.remoteStop((payload as { transactionId: number }).transactionId),
  }));
}

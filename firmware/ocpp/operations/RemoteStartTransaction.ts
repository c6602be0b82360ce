import type { ChargePoint } from '../charge-point.js';

interface Request {
  connectorId?: number;
  idTag: string;
}

/** RemoteStartTransaction: Accepted when this connector can start one; the start follows (CONTRACT §5). */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('RemoteStartTransaction', (payload) => {
    const { connectorId, idTag } = payload as Request;
    if (connectorId !== undefined && connectorId !== cp.settings.connectorId) return { status: 'Rejected' };
    return { status: cp.transactions.remoteStart(idTag) };
  });
}

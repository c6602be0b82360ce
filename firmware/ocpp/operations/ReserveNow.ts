import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'rpc' | 'settings' | 'status' | 'time' | 'transactions'>;

/** ReserveNow: the connector is kept for the idTag until expiryDate (connector 0 is not supported). */
export function register(cp: Deps): void {
  cp.rpc.handle('ReserveNow', (payload) => {
    const request = payload;
    if (request.connectorId !== cp.settings.connectorId) return { status: 'Rejected' };
    const view = cp.status.connectorView();
    if (view.status === 'Faulted') return { status: 'Faulted' };
    if (view.status === 'Unavailable') return { status: 'Unavailable' };
    const existing = cp.transactions.reservation;
    if (cp.transactions.transaction !== null || (view.status !== 'Available' && view.status !== 'Reserved')) return { status: 'Occupied' };
    if (existing && existing.reservationId !== request.reservationId) return { status: 'Occupied' };
    const expiresAtMs = cp.time.clockMs(request.expiryDate);
    cp.transactions.reservations.reserve({
      reservationId: request.reservationId,
      idTag: request.idTag,
      parentIdTag: request.parentIdTag ?? null,
      expiresAtMs,
    });
    return { status: 'Accepted' };
  });
}

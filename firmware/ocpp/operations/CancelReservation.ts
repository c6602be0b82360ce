import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'rpc' | 'transactions'>;

/** CancelReservation: Accepted for the reservation in force, Rejected otherwise. */
export function register(cp: Deps): void {
  cp.rpc.handle('CancelReservation', (payload) => ({
    status: cp.transactions.reservations.end('cancelled', payload.reservationId) ? 'Accepted' : 'Rejected',
  }));
}

import type { ChargePoint } from '../charge-point.js';

/** CancelReservation: Accepted for the reservation in force, Rejected otherwise. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('CancelReservation', (payload) => ({
    status: cp.transactions.reservations.end('cancelled', (payload as { reservationId: number }).reservationId) ? 'Accepted' : 'Rejected',
  }));
}

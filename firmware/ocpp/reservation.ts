import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Logger } from '../log.js';

export interface Reservation {
  readonly reservationId: number;
  readonly idTag: string;
  readonly parentIdTag: string | null;
  /** Clock time of expiryDate. */
  readonly expiresAtMs: number;
}

/** Why a reservation ended without a transaction using it. */
export type ReservationEnd = 'expired' | 'cancelled' | 'used' | 'unavailable' | 'faulted';

/**
 * The reservation of the connector (OCPP 1.6 §5.13, ReserveNow / CancelReservation): it holds
 * until expiryDate (a timer on the injected clock ends it, so the status goes back to Available at
 * once), until a transaction uses it, or until the connector goes Unavailable or Faulted.
 */
export class ReservationHolder {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #changed: () => void;
  #reservation: Reservation | null = null;
  #timer: TimerHandle | null = null;

  /** `changed`: a reservation was made or is gone (the status depends on it). */
  constructor(options: { clock: Clock; log: Logger; changed: () => void }) {
    this.#clock = options.clock;
    this.#log = options.log;
    this.#changed = options.changed;
  }

  get current(): Reservation | null {
    return this.#reservation;
  }

  reserve(reservation: Reservation): void {
    this.#clearTimer();
    this.#reservation = reservation;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.end('expired');
    }, reservation.expiresAtMs - this.#clock.now());
    this.#changed();
  }

  /** Ends the reservation in force (with `reservationId`, when given); false when there was none. */
  end(why: ReservationEnd, reservationId?: number): boolean {
    const reservation = this.#reservation;
    if (reservation === null || (reservationId !== undefined && reservation.reservationId !== reservationId)) return false;
    this.#clearTimer();
    this.#reservation = null;
    this.#log.info('reservation ended', { reservationId: reservation.reservationId, why });
    this.#changed();
    return true;
  }

  /**
   * The reservationId a transaction of `idTag` uses: its own idTag, or a card of the reservation's
   * group (its parentIdTag as the local list, the cache or Authorize gave it); null = not for it.
   */
  for(idTag: string, parentIdTag: string | null): number | null {
    const reservation = this.#reservation;
    if (reservation === null) return null;
    if (reservation.idTag === idTag) return reservation.reservationId;
    return reservation.parentIdTag !== null && parentIdTag === reservation.parentIdTag ? reservation.reservationId : null;
  }

  /** Whether `idTag` is worth authorising: no reservation, its own, or one of a group it may belong to. */
  admits(idTag: string): boolean {
    const reservation = this.#reservation;
    return reservation === null || reservation.idTag === idTag || reservation.parentIdTag !== null;
  }

  close(): void {
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}

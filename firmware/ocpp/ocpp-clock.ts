import type { Clock } from '../../hal/clock.js';
import type { Logger } from '../log.js';
import { CLOCK_FLOOR_MS } from '../version.js';
import type { OcppClock } from './services.js';

/**
 * The latest currentTime taken: a century before 9999-12-31T23:59:59.999Z, the last instant an
 * OCPP (RFC 3339, four-digit year) timestamp can carry, so that the box's own timestamps stay
 * schema-valid for its life.
 */
const LATEST_PLAUSIBLE_MS = Date.parse('9899-12-31T23:59:59.999Z');

/** A correction of the clock by the central system this large is a SettingSystemTime security event. */
const CLOCK_SET_EVENT_MS = 5_000;

export interface OcppClockOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Whether the OS reports the host clock synchronised (NTP), asked at every currentTime. */
  readonly hostClockSynced?: () => boolean;
}

/**
 * OCPP time (CONTRACT §5): the host clock, or the central system's time (Boot's and Heartbeat's
 * currentTime) while the host clock is not synchronised.
 */
export class OcppTime implements OcppClock {
  readonly #o: OcppClockOptions;
  #offsetMs = 0;
  #fromCentralSystem = false;
  readonly #listeners = new Set<(movedMs: number) => void>();

  constructor(options: OcppClockOptions) {
    this.#o = options;
  }

  /** OCPP time now, ms. */
  nowMs(): number {
    return this.#o.clock.now() + this.#offsetMs;
  }

  timestamp(): string {
    return new Date(this.nowMs()).toISOString();
  }

  clockMs(timestamp: string): number {
    return Date.parse(timestamp) - this.#offsetMs;
  }

  knownTimeMs(): number | null {
    const nowMs = this.nowMs();
    return this.#hostClockSynced() || this.#fromCentralSystem || nowMs >= CLOCK_FLOOR_MS ? nowMs : null;
  }

  /** Calls `listener` with how far the time moved each time the central system sets it. */
  onSet(listener: (movedMs: number) => void): void {
    this.#listeners.add(listener);
  }

  /** Whether a correction by `movedMs` is large enough to be a SettingSystemTime security event. */
  static isEvent(movedMs: number): boolean {
    return Math.abs(movedMs) >= CLOCK_SET_EVENT_MS;
  }

  /**
   * Boot's and Heartbeat's currentTime set the OCPP clock only while the host clock is not
   * synchronised, and only when plausible: not before this firmware was built, and far enough
   * from the last time a schema-valid timestamp can carry that ours stay valid.
   */
  take(currentTime: string): void {
    if (this.#hostClockSynced()) return;
    const serverMs = Date.parse(currentTime);
    if (!Number.isFinite(serverMs)) return;
    if (serverMs < CLOCK_FLOOR_MS || serverMs > LATEST_PLAUSIBLE_MS) {
      this.#o.log.warn('implausible currentTime from the central system ignored', { currentTime });
      return;
    }
    const offsetMs = serverMs - this.#o.clock.now();
    const movedMs = offsetMs - this.#offsetMs;
    this.#fromCentralSystem = true;
    this.#offsetMs = offsetMs;
    for (const listener of this.#listeners) listener(movedMs);
  }

  #hostClockSynced(): boolean {
    return this.#o.hostClockSynced?.() === true;
  }
}

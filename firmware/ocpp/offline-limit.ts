import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Logger } from '../log.js';

export interface OfflineLimitOptions {
  /** `ocpp.offlineLimitA`: 0 pauses, 6..80 A limits. */
  readonly limitA: number;
  /** `ocpp.offlineAfterS` */
  readonly afterS: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** The limit started or ended to apply. */
  readonly onChange: () => void;
}

/**
 * `ocpp.offlineLimitA` (CONTRACT §2): a local energy manager acting as the central system that
 * dies must not leave its last, high limit behind. Once the central system has been unreachable
 * for `offlineAfterS` (counted from the start, or from the link going down, until an accepted
 * BootNotification or Heartbeat) the OCPP limit becomes min(the profiles' limit, offlineLimitA);
 * the first accepted Boot or Heartbeat after the reconnect ends it. The charging profiles stay
 * stored as OCPP requires, and apply alone again from then on.
 */
export class OfflineLimit {
  readonly #o: OfflineLimitOptions;
  readonly #log: Logger;
  #timer: TimerHandle | null = null;
  #active = false;

  constructor(options: OfflineLimitOptions) {
    this.#o = options;
    this.#log = options.log;
  }

  /** The cap in force now, A; null while it does not apply. */
  get limitA(): number | null {
    return this.#active ? this.#o.limitA : null;
  }

  /** The countdown runs or the limit applies: the central system has not answered since it was lost. */
  get waiting(): boolean {
    return this.#timer !== null || this.#active;
  }

  /** The central system cannot be reached (link down, or no accepted Boot yet): the countdown starts, unless it runs already. */
  unreachable(): void {
    if (this.waiting) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null;
      this.#active = true;
      this.#log.warn('central system unreachable: the OCPP offline limit applies', { limitA: this.#o.limitA, afterS: this.#o.afterS });
      this.#o.onChange();
    }, this.#o.afterS * 1000);
  }

  /** An accepted BootNotification or Heartbeat: the central system answers again. */
  reached(): void {
    this.#clearTimer();
    if (!this.#active) return;
    this.#active = false;
    this.#log.info('central system answers again: the OCPP offline limit ends', { limitA: this.#o.limitA });
    this.#o.onChange();
  }

  stop(): void {
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}

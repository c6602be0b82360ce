import type { Clock, TimerHandle } from '../hal/clock.js';
import type { LogFields, Logger } from './log.js';

/** Lines let through per period before the rest are only counted. */
export const LOG_BURST = 5;
/** The period of the budget; the count of the dropped lines is logged once per period. */
export const LOG_PERIOD_MS = 60_000;

export interface RateLimitedLogOptions {
  readonly log: Logger;
  readonly clock: Clock;
  /** What the lines are about, named in the line that counts the dropped ones ("OCPP peer"). */
  readonly about: string;
  readonly burst?: number;
  readonly periodMs?: number;
}

/**
 * A log budget for lines an outsider can provoke at will (a central system sending garbage, a
 * Modbus master churning connections): the first `burst` lines of a period go through, the rest
 * are counted, and the count is logged once when the period ends (CONTRACT §10: a peer must not
 * be able to flush the 4 MB diagnostics log with noise). No timer runs unless lines were dropped.
 */
export class RateLimitedLog {
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #about: string;
  readonly #burst: number;
  readonly #periodMs: number;
  #periodStartMs: number | null = null;
  #passed = 0;
  #dropped = 0;
  #timer: TimerHandle | null = null;

  constructor(options: RateLimitedLogOptions) {
    this.#log = options.log;
    this.#clock = options.clock;
    this.#about = options.about;
    this.#burst = options.burst ?? LOG_BURST;
    this.#periodMs = options.periodMs ?? LOG_PERIOD_MS;
  }

  warn(msg: string, fields?: LogFields): void {
    if (this.#admit()) this.#log.warn(msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    if (this.#admit()) this.#log.info(msg, fields);
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.#admit()) this.#log.debug(msg, fields);
  }

  /** Logs what was dropped so far and stops the timer (at shutdown). */
  close(): void {
    this.#endPeriod();
  }

  #admit(): boolean {
    const now = this.#clock.now();
    if (this.#periodStartMs === null || now - this.#periodStartMs >= this.#periodMs) {
      this.#periodStartMs = now;
      this.#passed = 0;
    }
    if (this.#passed < this.#burst) {
      this.#passed += 1;
      return true;
    }
    this.#dropped += 1;
    this.#timer ??= this.#clock.setTimeout(
      () => {
        this.#timer = null;
        this.#endPeriod();
      },
      this.#periodStartMs + this.#periodMs - now,
    );
    return false;
  }

  #endPeriod(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#dropped > 0)
      this.#log.warn('log lines dropped', { about: this.#about, dropped: this.#dropped, periodS: this.#periodMs / 1000 });
    this.#dropped = 0;
    this.#periodStartMs = null;
  }
}

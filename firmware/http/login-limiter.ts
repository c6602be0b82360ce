import type { Clock } from '../../hal/clock.js';

/** Failed attempts a client address gets before it must wait. */
export const FREE_ATTEMPTS = 5;
const FIRST_WAIT_MS = 1000;
const LONGEST_WAIT_MS = 15 * 60_000;
/** A client address not seen failing for this long is forgotten. */
const FORGET_MS = 60 * 60_000;
const MAX_CLIENTS = 1024;

interface Failures {
  count: number;
  lastMs: number;
  blockedUntilMs: number;
}

/**
 * Failed logins (and setup codes) per client address: after FREE_ATTEMPTS failures each further
 * one doubles the wait (1 s, 2 s, 4 s … up to 15 min); an attempt during the wait is refused
 * without looking at the password. A success clears the address.
 */
export class LoginLimiter {
  readonly #clock: Clock;
  readonly #clients = new Map<string, Failures>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Seconds `address` must still wait, or 0. */
  retryAfterS(address: string): number {
    const failures = this.#clients.get(address);
    if (!failures) return 0;
    return Math.max(0, Math.ceil((failures.blockedUntilMs - this.#clock.now()) / 1000));
  }

  failed(address: string): void {
    const now = this.#clock.now();
    this.#forgetOld(now);
    const failures = this.#clients.get(address) ?? { count: 0, lastMs: now, blockedUntilMs: 0 };
    failures.count += 1;
    failures.lastMs = now;
    if (failures.count >= FREE_ATTEMPTS)
      failures.blockedUntilMs = now + Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** (failures.count - FREE_ATTEMPTS));
    this.#clients.set(address, failures);
  }

  succeeded(address: string): void {
    this.#clients.delete(address);
  }

  #forgetOld(now: number): void {
    for (const [address, f] of this.#clients) if (now - f.lastMs > FORGET_MS && now >= f.blockedUntilMs) this.#clients.delete(address);
    // A flood of addresses must not grow memory without bound: the oldest go first.
    while (this.#clients.size >= MAX_CLIENTS) {
      const first = this.#clients.keys().next().value;
      if (first === undefined) break;
      this.#clients.delete(first);
    }
  }
}

import type { Clock, TimerHandle } from '../clock.js';

interface Pending {
  id: number;
  atMs: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. Timers fire in time order during `advance`, each seeing
 * `now()` equal to its due time, so a test can run hours of charging deterministically.
 */
export class SimulatedClock implements Clock {
  #nowMs: number;
  #nextId = 1;
  #pending: Pending[] = [];

  constructor(options: { startMs?: number } = {}) {
    this.#nowMs = options.startMs ?? Date.UTC(2026, 0, 1);
  }

  now(): number {
    return this.#nowMs;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.#nextId++, atMs: this.#nowMs + Math.max(0, delayMs), fn };
    this.#pending.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    const id = (handle as { id: number }).id;
    this.#pending = this.#pending.filter((t) => t.id !== id);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const endMs = this.#nowMs + ms;
    for (;;) {
      const next = this.#nextDue(endMs);
      if (!next) break;
      this.#pending = this.#pending.filter((t) => t !== next);
      this.#nowMs = next.atMs;
      next.fn();
    }
    this.#nowMs = endMs;
  }

  /** Advances in steps of `stepMs` until `condition` holds or `limitMs` has passed; returns the time taken. */
  advanceUntil(condition: () => boolean, limitMs: number, stepMs = 1): number {
    const startMs = this.#nowMs;
    while (!condition()) {
      if (this.#nowMs - startMs >= limitMs) {
        throw new Error(`condition not met within ${limitMs} ms of simulated time`);
      }
      this.advance(stepMs);
    }
    return this.#nowMs - startMs;
  }

  #nextDue(endMs: number): Pending | undefined {
    let best: Pending | undefined;
    for (const t of this.#pending) {
      if (t.atMs <= endMs && (!best || t.atMs < best.atMs || (t.atMs === best.atMs && t.id < best.id))) best = t;
    }
    return best;
  }
}

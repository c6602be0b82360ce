/**
 * Time source of the firmware. Everything that waits or timestamps goes through a Clock, so tests
 * can run hours of charging on a simulated clock in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Opaque handle of a pending timer. */
export type TimerHandle = { readonly id: number } | ReturnType<typeof globalThis.setTimeout>;

/** Repeats `fn` every `periodMs` on `clock` until the returned function is called. */
export function every(clock: Clock, periodMs: number, fn: () => void): () => void {
  let handle: TimerHandle | null = null;
  let stopped = false;
  const arm = (): void => {
    handle = clock.setTimeout(() => {
      if (stopped) return;
      arm();
      fn();
    }, periodMs);
  };
  arm();
  return () => {
    stopped = true;
    if (handle !== null) clock.clearTimeout(handle);
  };
}

/** The longest delay Node's setTimeout takes (2^31 - 1 ms, 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

type HostTimer = ReturnType<typeof globalThis.setTimeout>;

/** A timer of the host clock whose delay may exceed MAX_TIMER_MS: it waits in steps. */
interface LongTimer {
  readonly id: number;
  host: HostTimer | null;
}

/**
 * Timers of any length on the host's setTimeout: a delay beyond `maxStepMs` waits in steps of at
 * most that, so every delay is honoured, never shortened (CONTRACT §10: intervals the central
 * system sets, up to the 2^31 - 1 s an OCPP integer can carry). A delay that is not a number
 * counts as 0; an infinite one never fires.
 */
export function longTimers(maxStepMs = MAX_TIMER_MS): Pick<Clock, 'setTimeout' | 'clearTimeout'> {
  let nextId = 1;
  return {
    setTimeout(fn, delayMs) {
      const timer: LongTimer = { id: nextId++, host: null };
      const arm = (remainingMs: number): void => {
        const stepMs = Math.min(remainingMs, maxStepMs);
        timer.host = globalThis.setTimeout(() => (remainingMs > stepMs ? arm(remainingMs - stepMs) : fn()), stepMs);
      };
      arm(Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs));
      return timer;
    },
    clearTimeout(handle) {
      const host = (handle as LongTimer).host;
      if (host !== null) globalThis.clearTimeout(host);
    },
  };
}

/** The wall clock of the host. */
export const systemClock: Clock = {
  now: () => Date.now(),
  ...longTimers(),
};

/** Resolves after `delayMs` on `clock`. */
export function sleep(clock: Clock, delayMs: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, delayMs));
}

/** Checks `condition` every `stepMs` on `clock`: true once it holds, false after `timeoutMs`. */
export function waitFor(clock: Clock, condition: () => boolean, timeoutMs: number, stepMs: number): Promise<boolean> {
  const deadline = clock.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = (): void => {
      if (condition()) resolve(true);
      else if (clock.now() >= deadline) resolve(false);
      else clock.setTimeout(check, stepMs);
    };
    check();
  });
}

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

/** The wall clock of the host. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, delayMs) => globalThis.setTimeout(fn, delayMs),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
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

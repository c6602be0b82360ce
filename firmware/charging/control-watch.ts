import { every, type Clock } from '../../hal/clock.js';
import type { Hal } from '../../hal/hal.js';
import type { Logger } from '../log.js';

/**
 * The control loop counts as failed when no pass has completed for this long (every pass throws,
 * or a HAL call hangs): the process ends non-zero with the outputs safe, and systemd restarts it.
 * The same second the launcher's health check allows (Firmware.health).
 */
export const CONTROL_STALL_MS = 1000;
/** How often the watch looks: the failure is seen within a quarter of CONTROL_STALL_MS after it. */
const CHECK_PERIOD_MS = CONTROL_STALL_MS / 4;

/** Exit code of a failed control side (CONTRACT §1). */
export const EXIT_FAILURE = 1;

/** Contactor open, pilot off: what a failed control side leaves (the hardware watchdog does the same if this throws). */
export function forceOutputsSafe(hal: Pick<Hal, 'contactor' | 'pilot'>): void {
  try {
    hal.contactor.setClosed(false);
  } finally {
    hal.pilot.drive({ mode: 'off' });
  }
}

export interface ControlWatchOptions {
  readonly clock: Clock;
  /** The loop watched: the clock time of its last completed pass (null: none yet). */
  readonly controller: { readonly lastPassMs: number | null };
  readonly hal: Pick<Hal, 'contactor' | 'pilot'>;
  readonly log: Logger;
  /** Ends the process (process.exit in main.ts). */
  readonly exit: (code: number) => never | void;
}

/**
 * Watches the control loop from its own timer: once no pass has completed for more than
 * CONTROL_STALL_MS (counted from the watch's start while there was none yet), the failure is
 * logged, the outputs are forced safe and the process exits with EXIT_FAILURE. Returns the stop function.
 */
export function watchControlLoop(options: ControlWatchOptions): () => void {
  const { clock, controller, log } = options;
  const sinceMs = clock.now();
  let failed = false;
  const stop = every(clock, CHECK_PERIOD_MS, () => {
    const silentMs = clock.now() - (controller.lastPassMs ?? sinceMs);
    if (failed || silentMs <= CONTROL_STALL_MS) return;
    failed = true;
    stop();
    log.error('control loop failed: no pass completed', { silentMs });
    try {
      forceOutputsSafe(options.hal);
    } finally {
      options.exit(EXIT_FAILURE);
    }
  });
  return stop;
}

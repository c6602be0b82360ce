import { getPriority, setPriority } from 'node:os';
import type { Logger } from './log.js';

/**
 * Scheduling priorities of the two sides (README "Process structure"). On Linux a nice value
 * belongs to a thread, and os.setPriority() without a pid sets the calling thread's: the control
 * side's main thread runs at CONTROL_NICE, so that its passes (the contactor's opening) preempt the
 * protocol side's work and other processes on the SoM; the protocol worker, which inherits the
 * value of the thread that created it, goes back to PROTOCOL_NICE. Raising a priority needs
 * CAP_SYS_NICE or the unit's `Nice=-10` (image/wallbox.service), which sets it before the start.
 */
export const CONTROL_NICE = -10;
export const PROTOCOL_NICE = 0;

/** The main thread to CONTROL_NICE; where that is not allowed, it is logged and the thread stays as it is. */
export function raiseControlPriority(log: Logger): void {
  try {
    if (getPriority() > CONTROL_NICE) setPriority(CONTROL_NICE);
  } catch (err) {
    log.info('the control side runs at normal priority (no permission to raise it)', {
      nice: getPriority(),
      wanted: CONTROL_NICE,
      reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
    });
  }
}

/** The calling (worker) thread back to PROTOCOL_NICE when it inherited a higher priority; lowering one is always allowed. */
export function lowerProtocolPriority(): void {
  if (getPriority() < PROTOCOL_NICE) setPriority(PROTOCOL_NICE);
}

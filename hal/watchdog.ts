/**
 * The hardware watchdog: if it is not fed in time, the hardware drops the contactor and the PWM
 * by itself. Only the control loop feeds it, so a stalled loop is a dead firmware.
 */
export interface Watchdog {
  feed(): void;
  /** Disarms on a clean stop (the magic close on /dev/watchdog). */
  close(): void;
}

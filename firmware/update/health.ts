/**
 * What the firmware tells its launcher over the IPC channel (`process.send`), and back. The
 * launcher is the firmware's parent on an installed box (launcher.ts); without one (npm start,
 * most tests) nothing is sent.
 */

/** The firmware's health, sent every second. */
export interface HealthReport {
  readonly type: 'health';
  readonly version: string;
  /** The control loop has run a pass within the last second. */
  readonly controlLoop: boolean;
  /** The Modbus slave listens on what the config asks for (it is up once start() returned). */
  readonly modbus: boolean;
  /** OCPP: not configured, Boot Accepted with the link up, or not (yet). */
  readonly ocpp: 'off' | 'online' | 'offline';
}

/** Launcher → firmware: an update result was stored and waits to be reported. */
export interface ResultReady {
  readonly type: 'update-result';
}

export const HEALTH_PERIOD_MS = 1000;

export function isHealthReport(message: unknown): message is HealthReport {
  return message !== null && typeof message === 'object' && (message as { type?: unknown }).type === 'health';
}

export function isResultReady(message: unknown): message is ResultReady {
  return message !== null && typeof message === 'object' && (message as { type?: unknown }).type === 'update-result';
}

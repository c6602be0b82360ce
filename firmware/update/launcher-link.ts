import type { Firmware } from '../firmware.js';
import { HEALTH_PERIOD_MS, isResultReady } from './health.js';

/**
 * The firmware's side of the launcher's IPC channel: the health every second, and a stored update
 * result reported as soon as the launcher says it committed one. Does nothing without a launcher.
 */
export function linkToLauncher(firmware: Firmware): () => void {
  const send = process.send?.bind(process);
  if (send === undefined) return () => {};
  const report = (): void => {
    if (process.connected) send(firmware.health());
  };
  const timer = setInterval(report, HEALTH_PERIOD_MS);
  const onMessage = (message: unknown): void => {
    if (isResultReady(message)) void firmware.updates.checkResult();
  };
  process.on('message', onMessage);
  report();
  return () => {
    clearInterval(timer);
    process.off('message', onMessage);
    process.disconnect?.();
  };
}

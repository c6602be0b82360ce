import { HEALTH_PERIOD_MS, isResultReady, type HealthReport } from './health.js';

/** What the link reports and whom it tells about a stored update result. */
export interface LauncherPeer {
  health(): HealthReport;
  checkUpdateResult(): void;
}

/**
 * The firmware's side of the launcher's IPC channel: the health every second, and a stored update
 * result reported as soon as the launcher says it committed one. Does nothing without a launcher.
 */
export function linkToLauncher(peer: LauncherPeer): () => void {
  const send = process.send?.bind(process);
  if (send === undefined) return () => {};
  const report = (): void => {
    if (process.connected) send(peer.health());
  };
  const timer = setInterval(report, HEALTH_PERIOD_MS);
  const onMessage = (message: unknown): void => {
    if (isResultReady(message)) peer.checkUpdateResult();
  };
  process.on('message', onMessage);
  report();
  return () => {
    clearInterval(timer);
    process.off('message', onMessage);
    process.disconnect?.();
  };
}

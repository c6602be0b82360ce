import type { DiagnosticsStatus } from '../../diagnostics/uploader.js';
import type { OcppServices } from '../services.js';

/** What this message uses. */
export type Deps = Pick<OcppServices, 'notifier'>;

/** DiagnosticsStatusNotification (sent by the charge point): a step of a GetDiagnostics upload; waits for Boot Accepted, the latest kept. */
export function send(deps: Deps, status: DiagnosticsStatus): Promise<void> {
  return deps.notifier.notify('DiagnosticsStatusNotification', { status });
}

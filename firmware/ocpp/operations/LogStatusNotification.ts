import type { DiagnosticsStatus } from '../../diagnostics/uploader.js';
import type { OcppServices } from '../services.js';

/** What this message uses. */
export type Deps = Pick<OcppServices, 'notifier'>;

/** The security extension's UploadLogStatus for the uploader's state. */
export function uploadLogStatus(status: DiagnosticsStatus): 'Idle' | 'Uploading' | 'Uploaded' | 'UploadFailure' {
  return status === 'UploadFailed' ? 'UploadFailure' : status;
}

/**
 * LogStatusNotification (security extension, sent by the charge point): a step of a GetLog upload,
 * with the request's id (none when triggered); waits for Boot Accepted, the latest kept.
 */
export function send(deps: Deps, status: DiagnosticsStatus, requestId?: number): Promise<void> {
  return deps.notifier.notify('LogStatusNotification', {
    status: uploadLogStatus(status),
    ...(requestId !== undefined && { requestId }),
  });
}

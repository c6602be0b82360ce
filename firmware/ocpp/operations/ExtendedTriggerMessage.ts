import type { OcppServices } from '../services.js';
import * as LogStatusNotification from './LogStatusNotification.js';
import * as SignCertificate from './SignCertificate.js';
import * as SignedFirmwareStatusNotification from './SignedFirmwareStatusNotification.js';
import { trigger, type TriggerDeps } from './TriggerMessage.js';

/** What this operation uses of the charge point. */
type Deps = TriggerDeps &
  SignCertificate.SignCertificateDeps &
  Pick<OcppServices, 'configuration' | 'diagnostics' | 'firmwareUpdates' | 'log' | 'notifier' | 'rpc'>;

/**
 * ExtendedTriggerMessage: TriggerMessage's messages, the security extension's status messages, and a
 * new charge point certificate (Rejected without a CpoName for its O).
 */
export function register(cp: Deps): void {
  cp.rpc.handle('ExtendedTriggerMessage', (payload) => {
    const request = payload;
    if (request.requestedMessage === 'SignChargePointCertificate' && (cp.configuration.get('CpoName') ?? '') === '')
      return { status: 'Rejected' };
    return trigger(cp, request, {
      SignChargePointCertificate: () =>
        void SignCertificate.send(cp).catch((err: unknown) => cp.log.warn('SignCertificate failed', { reason: (err as Error).message })),
      // The security extension's own status messages (Idle when nothing is under way).
      FirmwareStatusNotification: () => void SignedFirmwareStatusNotification.send(cp, cp.firmwareUpdates?.status ?? 'Idle'),
      LogStatusNotification: () => void LogStatusNotification.send(cp, cp.diagnostics?.status ?? 'Idle'),
    });
  });
}

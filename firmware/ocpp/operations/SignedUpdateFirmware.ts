import { verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ImageRejected } from '../../update/signed-image.js';
import type { FirmwareUpdateStatus } from '../../update/updater.js';
import type { OcppServices } from '../services.js';
import { chainProblem, parseCertificate, parsedCertificates } from '../x509.js';
import { retryPolicy } from './GetDiagnostics.js';
import * as SignedFirmwareStatusNotification from './SignedFirmwareStatusNotification.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'certificates' | 'firmwareUpdates' | 'notifier' | 'rpc' | 'securityEvents' | 'time'>;

export const ORIGIN = 'SignedUpdateFirmware';

/** Sends a SignedFirmwareStatusNotification, and the security events some statuses are. */
function reporter(cp: Deps, requestId?: number) {
  return async (status: FirmwareUpdateStatus, detail?: string, resultRequestId?: number): Promise<void> => {
    if (status === 'InvalidSignature') cp.securityEvents.report('InvalidFirmwareSignature', detail);
    if (status === 'Installed') cp.securityEvents.report('FirmwareUpdated', detail);
    const id = requestId ?? resultRequestId;
    await SignedFirmwareStatusNotification.send(cp, status, id);
  };
}

/**
 * SignedUpdateFirmware (security extension): UpdateFirmware's path with two more checks. The
 * signing certificate must chain to an installed ManufacturerRootCertificate (else
 * InvalidCertificate at once), and after the download the signature of the file must verify with
 * that certificate's key (else InvalidSignature); then the image's own Ed25519 signature is checked
 * as for every update. Each status goes out with the request's id, the last one from the version
 * that runs after the restart.
 */
export function register(cp: Deps): void {
  const updater = cp.firmwareUpdates;
  if (updater === null) return;
  updater.deliverResults(ORIGIN, reporter(cp));
  cp.rpc.handle('SignedUpdateFirmware', (payload) => {
    const { requestId, retries, retryInterval, firmware } = payload;
    const certificate = parseCertificate(firmware.signingCertificate);
    const roots = parsedCertificates(cp.certificates.pems('ManufacturerRootCertificate'));
    const problem = certificate === null ? 'not a PEM certificate' : chainProblem([certificate], roots, cp.time.knownTimeMs());
    if (certificate === null || problem !== null) {
      cp.securityEvents.report('InvalidFirmwareSigningCertificate', problem ?? undefined);
      return { status: 'InvalidCertificate' };
    }
    if (updater.status === 'Installing' || updater.status === 'InstallRebooting') return { status: 'Rejected' };
    const replacing = updater.status !== 'Idle';
    updater.update(
      {
        location: firmware.location,
        retrieveAtMs: cp.time.clockMs(firmware.retrieveDateTime),
        ...retryPolicy(retries, retryInterval),
        origin: ORIGIN,
        requestId,
        verify: async (file) => {
          const data = await readFile(file);
          // Ed25519 signs the message itself; RSA and ECDSA keys sign its SHA-256.
          const algorithm = certificate.publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
          let good = false;
          try {
            good = verify(algorithm, data, certificate.publicKey, Buffer.from(firmware.signature, 'base64'));
          } catch {
            good = false;
          }
          if (!good) throw new ImageRejected('InvalidSignature', 'the firmware signature does not verify with the signing certificate');
          return updater.openImage(file);
        },
      },
      reporter(cp, requestId),
    );
    return { status: replacing ? 'AcceptedCanceled' : 'Accepted' };
  });
}

import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'certificates' | 'link' | 'log' | 'rpc' | 'securityEvents' | 'settings' | 'time'>;

/** CertificateSigned: the chain for the last SignCertificate's key; the next connection presents it. */
export function register(cp: Deps): void {
  cp.rpc.handle('CertificateSigned', async (payload) => {
    const { certificateChain } = payload;
    const problem = await cp.certificates.acceptSigned(certificateChain, {
      commonName: cp.settings.chargeBoxId,
      roots: await cp.link.centralSystemRoots(),
      nowMs: cp.time.knownTimeMs(),
    });
    if (problem !== null) {
      cp.securityEvents.report('InvalidChargePointCertificate', problem);
      return { status: 'Rejected' };
    }
    cp.log.info('charge point certificate installed');
    await cp.link.certificatesChanged();
    return { status: 'Accepted' };
  });
}

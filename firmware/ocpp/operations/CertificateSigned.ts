import type { ChargePoint } from '../charge-point.js';

/** CertificateSigned: the chain for the last SignCertificate's key; the next connection presents it. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('CertificateSigned', async (payload) => {
    const { certificateChain } = payload as { certificateChain: string };
    const problem = await cp.certificates.acceptSigned(certificateChain, {
      commonName: cp.settings.chargeBoxId,
      roots: await cp.link.centralSystemRoots(),
      nowMs: cp.knownTimeMs(),
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

import type { ChargePoint } from '../charge-point.js';
import type { RootCertificateType } from '../model/certificate-store.js';

interface Request {
  certificateType: RootCertificateType;
  certificate: string;
}

/** InstallCertificate: a central system or manufacturer root; a new central system root is used from the next connection. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('InstallCertificate', async (payload) => {
    const { certificateType, certificate } = payload as Request;
    const result = await cp.certificates.install(certificateType, certificate, {
      maxLength: cp.configuration.integer('CertificateStoreMaxLength'),
      additionalRootCheck: cp.configuration.flag('AdditionalRootCertificateCheck'),
      nowMs: cp.knownTimeMs(),
    });
    cp.log.info('InstallCertificate', { certificateType, ...result });
    if (result.status === 'Accepted' && certificateType === 'CentralSystemRootCertificate') await cp.link.certificatesChanged();
    return { status: result.status };
  });
}

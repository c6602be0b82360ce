import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'certificates' | 'configuration' | 'link' | 'log' | 'rpc' | 'time'>;

/** InstallCertificate: a central system or manufacturer root; a new central system root is used from the next connection. */
export function register(cp: Deps): void {
  cp.rpc.handle('InstallCertificate', async (payload) => {
    const { certificateType, certificate } = payload;
    const result = await cp.certificates.install(certificateType, certificate, {
      maxLength: cp.configuration.integer('CertificateStoreMaxLength'),
      additionalRootCheck: cp.configuration.flag('AdditionalRootCertificateCheck'),
      nowMs: cp.time.knownTimeMs(),
    });
    cp.log.info('InstallCertificate', { certificateType, ...result });
    if (result.status === 'Accepted' && certificateType === 'CentralSystemRootCertificate') await cp.link.certificatesChanged();
    return { status: result.status };
  });
}

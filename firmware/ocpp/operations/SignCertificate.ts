import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
export type SignCertificateDeps = Pick<OcppServices, 'certificates' | 'configuration' | 'log' | 'rpc' | 'settings'>;

/**
 * SignCertificate (sent by the charge point): a key pair made here, and a CSR with the charge box
 * id as CN and CpoName as O. False when no request could be made (CpoName not set).
 */
export async function send(cp: SignCertificateDeps): Promise<boolean> {
  const organization = cp.configuration.get('CpoName') ?? '';
  if (organization === '') {
    cp.log.warn('SignCertificate not sent: CpoName is not set');
    return false;
  }
  const csr = await cp.certificates.newRequest({ commonName: cp.settings.chargeBoxId, organization });
  const { status } = await cp.rpc.call('SignCertificate', { csr });
  cp.log.info('SignCertificate', { status });
  return true;
}

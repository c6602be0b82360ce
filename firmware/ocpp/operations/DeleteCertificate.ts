import type { ChargePoint } from '../charge-point.js';
import type { CertificateHashData } from '../x509.js';

/** DeleteCertificate: any installed root, except the last central system root a TLS link depends on. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('DeleteCertificate', async (payload) => {
    const { certificateHashData } = payload as { certificateHashData: CertificateHashData };
    const type = cp.certificates.find(certificateHashData);
    if (type === null) return { status: 'NotFound' };
    if (type === 'CentralSystemRootCertificate' && !cp.link.mayDeleteCentralSystemRoot()) {
      cp.log.warn('DeleteCertificate refused: the link depends on this central system root');
      return { status: 'Failed' };
    }
    const status = await cp.certificates.remove(certificateHashData);
    if (status === 'Accepted' && type === 'CentralSystemRootCertificate') await cp.link.certificatesChanged();
    return { status };
  });
}

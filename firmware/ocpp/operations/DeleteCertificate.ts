import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'certificates' | 'link' | 'log' | 'rpc'>;

/** DeleteCertificate: any installed root, except the last central system root a TLS link depends on. */
export function register(cp: Deps): void {
  cp.rpc.handle('DeleteCertificate', async (payload) => {
    const { certificateHashData } = payload;
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

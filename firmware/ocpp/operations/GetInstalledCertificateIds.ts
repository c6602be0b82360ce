import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'certificates' | 'rpc'>;

/** GetInstalledCertificateIds: the hash data of the installed roots of a type. */
export function register(cp: Deps): void {
  cp.rpc.handle('GetInstalledCertificateIds', (payload) => {
    const ids = cp.certificates.ids(payload.certificateType);
    return ids.length > 0 ? { status: 'Accepted', certificateHashData: ids } : { status: 'NotFound' };
  });
}

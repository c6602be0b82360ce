import type { ChargePoint } from '../charge-point.js';
import type { RootCertificateType } from '../model/certificate-store.js';

/** GetInstalledCertificateIds: the hash data of the installed roots of a type. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('GetInstalledCertificateIds', (payload) => {
    const ids = cp.certificates.ids((payload as { certificateType: RootCertificateType }).certificateType);
    return ids.length > 0 ? { status: 'Accepted', certificateHashData: ids } : { status: 'NotFound' };
  });
}

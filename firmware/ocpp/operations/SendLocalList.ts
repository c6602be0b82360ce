import type { ChargePoint } from '../charge-point.js';
import type { ListUpdate } from '../model/authorization.js';

interface Request {
  listVersion: number;
  localAuthorizationList?: ListUpdate[];
  updateType: 'Full' | 'Differential';
}

/** SendLocalList: full or differential; too many entries Failed, a stale differential VersionMismatch. */
export function register(cp: ChargePoint): void {
  cp.rpc.handle('SendLocalList', async (payload) => {
    const { listVersion, localAuthorizationList = [], updateType } = payload as Request;
    if (!cp.configuration.flag('LocalAuthListEnabled')) return { status: 'NotSupported' };
    if (localAuthorizationList.length > cp.configuration.integer('SendLocalListMaxLength')) return { status: 'Failed' };
    return { status: await cp.authorization.updateList(listVersion, updateType, localAuthorizationList) };
  });
}

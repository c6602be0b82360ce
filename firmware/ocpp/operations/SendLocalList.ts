import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'authorization' | 'configuration' | 'rpc'>;

/** SendLocalList: full or differential; too many entries Failed, a stale differential VersionMismatch. */
export function register(cp: Deps): void {
  cp.rpc.handle('SendLocalList', async (payload) => {
    const { listVersion, localAuthorizationList = [], updateType } = payload;
    if (!cp.configuration.flag('LocalAuthListEnabled')) return { status: 'NotSupported' };
    if (localAuthorizationList.length > cp.configuration.integer('SendLocalListMaxLength')) return { status: 'Failed' };
    return { status: await cp.authorization.updateList(listVersion, updateType, localAuthorizationList) };
  });
}

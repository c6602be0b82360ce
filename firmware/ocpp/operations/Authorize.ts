import type { IdTagInfo } from '../model/authorization.js';
import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
export type Deps = Pick<OcppServices, 'rpc'>;

/** Authorize (sent by the charge point, OCPP 1.6 §4.2): the central system's verdict on `idTag`. */
export async function authorize(cp: Deps, idTag: string): Promise<IdTagInfo> {
  const { idTagInfo } = await cp.rpc.call('Authorize', { idTag });
  return idTagInfo;
}

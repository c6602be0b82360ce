import type { ConnectorView } from '../model/connector-status.js';
import type { OcppServices } from '../services.js';

/** What this message uses. */
export type Deps = Pick<OcppServices, 'rpc'>;

/** StatusNotification (sent by the charge point): a connector's status, error code and info at `timestamp`. */
export async function send(deps: Deps, connectorId: number, view: ConnectorView, timestamp: string): Promise<void> {
  await deps.rpc.call('StatusNotification', {
    connectorId,
    status: view.status,
    errorCode: view.errorCode,
    ...(view.info !== undefined && { info: view.info }),
    timestamp,
  });
}

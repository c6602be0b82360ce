import type { OcppServices } from '../services.js';

/** What this message uses. */
export type Deps = Pick<OcppServices, 'rpc'>;

/** Heartbeat (sent by the charge point): the central system's currentTime. */
export async function send(deps: Deps): Promise<string> {
  const { currentTime } = await deps.rpc.call('Heartbeat', {});
  return currentTime;
}

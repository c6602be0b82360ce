import type { Clock } from '../../hal/clock.js';
import type { Logger } from '../log.js';
import { OcppConnection } from './connection.js';
import type { LinkSecurity } from './link-security.js';
import type { OcppConfiguration } from './model/configuration.js';
import type { OcppSettings } from './services.js';
import type { Connector } from './session.js';

export interface WebSocketConnectorOptions {
  readonly settings: Pick<OcppSettings, 'chargeBoxId'>;
  /** The security profile: where the link connects and how. */
  readonly link: Pick<LinkSecurity, 'target'>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly configuration: Pick<OcppConfiguration, 'integer'>;
}

/** The production transport: the WebSocket connection to the central system (`connection.ts`). */
export function webSocketConnector(o: WebSocketConnectorOptions): Connector {
  return (events, rpc) => {
    const target = o.link.target;
    return new OcppConnection({
      url: target.url,
      chargeBoxId: o.settings.chargeBoxId,
      password: target.password,
      rpc,
      clock: o.clock,
      log: o.log,
      pingIntervalS: () => o.configuration.integer('WebSocketPingInterval'),
      ...events,
      ...(target.tls !== undefined && { tls: target.tls }),
    });
  };
}

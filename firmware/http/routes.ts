import type { IncomingMessage, ServerResponse } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { Clock } from '../../hal/clock.js';
import { getKey, ConfigError } from '../config.js';
import { tryInterfaces } from '../config-check.js';
import type { ConfigOverlay } from '../config-overlay.js';
import type { Firmware } from '../firmware.js';
import type { Logger } from '../log.js';
import { ocppTlsOptions } from '../ocpp/tls.js';
import { storeCaCertificate, storeClientCertificate } from './certificates.js';
import { maskedConfig, patchConfig, WRITABLE_KEYS } from './config-view.js';
import type { EventRing } from './events.js';
import type { TransactionHistory } from './history.js';
import { bodyParser, HttpError, MAX_BODY_BYTES, readJson } from './http-io.js';
import type { LiveStream } from './live.js';
import type { Samples } from './samples.js';
import type { Config } from '../config.js';
import { statusView, type StatusView } from './status-view.js';

/** What a route answers: a JSON body (or none, 204) with a status and headers. */
export interface Reply {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The session token ("" without one). */
  readonly token: string;
  /** The client's address (login rate limiting). */
  readonly address: string;
}

/** A route answers with a Reply, or null when it wrote the response itself (the live stream). */
export type Handler = (ctx: RequestContext) => Promise<Reply | null>;
export type RouteTable = ReadonlyMap<string, Readonly<Partial<Record<string, Handler>>>>;

export interface RouteDeps {
  readonly firmware: Firmware;
  readonly overlay: ConfigOverlay;
  readonly clock: Clock;
  readonly log: Logger;
  readonly events: EventRing;
  readonly history: TransactionHistory;
  readonly samples: Samples;
  readonly live: LiveStream;
  /** The owner's pause (volatile). */
  readonly pause: { paused: boolean };
  /** Keys changed from the web that apply after the next restart. */
  readonly pendingRestart: Set<string>;
}

const parsePause = bodyParser(Type.Object({ paused: Type.Boolean() }, { additionalProperties: false }));
const parseCa = bodyParser(Type.Object({ pem: Type.String({ minLength: 1, maxLength: MAX_BODY_BYTES }) }, { additionalProperties: false }));
const parseClient = bodyParser(
  Type.Object({ cert: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
);

/** The routes behind the login: status, live stream, config, pause, events, transactions, chart, certificates. */
export function apiRoutes(d: RouteDeps): RouteTable {
  const status = (): StatusView => statusView(d.firmware, d.pause.paused, d.clock.now());

  const configReply = (): Reply => ({
    body: { config: maskedConfig(d.overlay.config), writable: WRITABLE_KEYS, pendingRestart: [...d.pendingRestart] },
  });

  /** Writes `config`'s values of the changed keys to the overlay and applies what applies now. */
  const commit = async (config: Config, changed: ReadonlyArray<{ key: string; apply: string }>): Promise<void> => {
    // A file the OCPP or MQTT client could not read must be refused now, not found at the reconnect.
    const asHttpError = (err: unknown): never => {
      throw err instanceof ConfigError ? new HttpError(400, err.message) : err;
    };
    if (changed.some((c) => c.key === 'ocpp') && config.ocpp !== null && config.ocpp.url.startsWith('wss://'))
      await ocppTlsOptions(config.ocpp).catch(asHttpError);
    if (changed.some((c) => c.key === 'mqtt') && config.mqtt !== null)
      await (await import('../mqtt/client.js')).checkMqttSettings(config.mqtt).catch(asHttpError);
    // A value the next start could not use (an address not on the box, a port in use or taken by
    // the other interface, a missing serial device) is refused now: the box must not brick itself.
    await tryInterfaces(config, d.overlay.config).catch(asHttpError);
    for (const { key } of changed) await d.overlay.set(key, getKey(config, key));
    if (changed.length === 0) return;
    const keys = changed.map((c) => c.key);
    d.log.info('config changed from the web interface', { keys });
    d.events.add('config', `changed: ${keys.join(', ')}`);
    for (const { key, apply } of changed) if (apply === 'restart') d.pendingRestart.add(key);
    if (keys.includes('ocpp')) await d.firmware.applyOcpp(d.overlay.config.ocpp);
    if (keys.includes('mqtt')) await d.firmware.applyMqtt(d.overlay.config.mqtt);
  };

  const currentOcpp = (): NonNullable<Config['ocpp']> => {
    const ocpp = d.overlay.config.ocpp;
    if (ocpp === null) throw new HttpError(409, 'ocpp: not configured; set ocpp.url and ocpp.chargeBoxId first');
    return ocpp;
  };

  const withOcpp = async (files: Partial<Pick<NonNullable<Config['ocpp']>, 'caFile' | 'certFile' | 'keyFile'>>): Promise<void> => {
    const { config, changed } = patchConfig(d.overlay.config, { ocpp: files });
    await commit(config, changed);
  };

  return new Map<string, Partial<Record<string, Handler>>>([
    ['/api/status', { GET: async () => ({ body: status() }) }],
    [
      '/api/live',
      {
        GET: async ({ res, token }) => {
          const opened = d.live.open(res, token, [
            ['status', status()],
            ['samples', d.samples.list()],
          ]);
          if (!opened) throw new HttpError(503, 'too many live streams open', { 'retry-after': '10' });
          return null;
        },
      },
    ],
    [
      '/api/config',
      {
        GET: async () => configReply(),
        PATCH: async ({ req }) => {
          const { config, changed } = patchConfig(d.overlay.config, await readJson(req));
          await commit(config, changed);
          return { body: { changed, ...(configReply().body as object) } };
        },
      },
    ],
    [
      '/api/charging',
      {
        POST: async ({ req }) => {
          const { paused } = parsePause(await readJson(req));
          if (paused !== d.pause.paused) {
            d.pause.paused = paused;
            d.firmware.charging.setUserPaused(paused);
            d.log.info(paused ? 'charging paused from the web interface' : 'charging resumed from the web interface');
            d.events.add('charging', paused ? 'charging paused by the owner' : 'charging resumed by the owner');
            // The answer shows the pause in force: the core may be in another thread.
            await d.firmware.charging.settled();
          }
          return { body: status() };
        },
      },
    ],
    ['/api/events', { GET: async () => ({ body: d.events.list() }) }],
    [
      '/api/grid/activations',
      {
        // The installer's export of the grid operator limit's activations: JSON lines, oldest first.
        GET: async ({ res }) => {
          const text = d.firmware.gridLog.jsonLines();
          res.writeHead(200, {
            'content-type': 'application/x-ndjson; charset=utf-8',
            'content-length': String(Buffer.byteLength(text)),
            'content-disposition': 'attachment; filename="grid-activations.jsonl"',
            'cache-control': 'no-store',
          });
          res.end(text);
          return null;
        },
      },
    ],
    ['/api/transactions', { GET: async () => ({ body: d.history.list() }) }],
    ['/api/samples', { GET: async () => ({ body: d.samples.list() }) }],
    [
      '/api/certs/ca',
      {
        PUT: async ({ req }) => {
          const { pem } = parseCa(await readJson(req));
          currentOcpp();
          const stored = await storeCaCertificate(d.overlay.config.dataDir, pem);
          await withOcpp({ caFile: stored.path });
          d.events.add(
            'config',
            `CA certificate installed: ${stored.certificates.map((c) => c.subject.replaceAll('\n', ', ')).join('; ')}`,
          );
          return { body: { caFile: stored.path, certificates: stored.certificates } };
        },
      },
    ],
    [
      '/api/certs/client',
      {
        PUT: async ({ req }) => {
          const { cert, key } = parseClient(await readJson(req));
          currentOcpp();
          const stored = await storeClientCertificate(d.overlay.config.dataDir, cert, key);
          await withOcpp({ certFile: stored.certFile, keyFile: stored.keyFile });
          d.events.add('config', `client certificate installed: ${stored.certificate.subject.replaceAll('\n', ', ')}`);
          return { body: { certFile: stored.certFile, keyFile: stored.keyFile, certificate: stored.certificate } };
        },
      },
    ],
  ]);
}

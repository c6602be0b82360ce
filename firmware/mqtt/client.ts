import { MqttClient, type IClientOptions, type IPublishPacket } from 'mqtt';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { every, type Clock, type TimerHandle } from '../../hal/clock.js';
import { ConfigError, type Config } from '../config.js';
import type { StatusView } from '../http/status-view.js';
import type { Logger } from '../log.js';
import type { ExceptionCode } from '../modbus/codec.js';
import type { EnergyManagerCommand } from '../modbus/model.js';
import { readTlsFiles, type TlsFiles } from '../tls-files.js';
import { parseCommand } from './commands.js';
import { discoveryMessages, type DiscoveryDevice } from './discovery.js';
import { Outbox, type Outgoing } from './outbox.js';
import { PacketSizeGuard } from './packet-size-guard.js';
import { statusPayload } from './status-payload.js';
import { topicPrefix, topicsFor, topicSafe, type Topics } from './topics.js';

export type MqttSettings = NonNullable<Config['mqtt']>;

/** The energy manager's inputs (the Modbus model): the same writes as 8093, 8094 and 8087. */
export interface EnergyManagerInput {
  command(name: EnergyManagerCommand, raw: number): Promise<ExceptionCode | null>;
}

export interface MqttApiOptions {
  readonly settings: MqttSettings;
  readonly device: DiscoveryDevice;
  readonly energyManager: EnergyManagerInput;
  readonly phaseSwitchingEnabled: boolean;
  /** `evse.maxCurrentA` (the top of Home Assistant's limit number). */
  readonly maxCurrentA: number;
  /** The status the HTTP API shows (status-view.ts). */
  readonly status: () => StatusView;
  /** Calls `listener` when the charging state changes; returns the unsubscribe function. */
  readonly onChange: (listener: () => void) => () => void;
  readonly clock: Clock;
  readonly log: Logger;
}

/** CONTRACT §8: a changed status goes out at most this often, an unchanged one at least this often. */
const STATUS_MIN_INTERVAL_MS = 1000;
const STATUS_PERIOD_MS = 10_000;
/** CONTRACT §10: messages waiting for the broker, and QoS 1 messages handed over but not yet acknowledged. */
const OUTBOX_LIMIT = 100;
const MAX_IN_FLIGHT = 10;
/** Reconnect backoff: doubling from the first to the last, less up to a fifth at random (a fleet does not come back in step). */
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
/**
 * The largest packet taken from the broker (MQTT 5 tells it; for 3.1.1 the guard cuts the link).
 * A command is a few bytes; one up to this size is answered on P/error.
 */
const MAX_PACKET_BYTES = 2 * 1024 * 1024;
const STOP_TIMEOUT_MS = 2000;
/** MQTT 3.1.1 CONNACK "unacceptable protocol version", MQTT 5 "unsupported protocol version". */
const PROTOCOL_REFUSED = new Set([1, 132]);

/** `url` with its password left out, for the log. */
function printableUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}

/**
 * What the schema cannot say about `mqtt`, checked, and its certificate files (mqtts:// only)
 * read now: a problem is a config error naming its key, found at start or when the web
 * interface saves it.
 */
export async function checkMqttSettings(settings: MqttSettings): Promise<TlsFiles> {
  // MQTT 3.1.1 §3.1.2.9: no password without a user name.
  if (settings.password !== undefined && settings.password !== '' && settings.username === undefined)
    throw new ConfigError('mqtt.username', 'is required with mqtt.password');
  if (!settings.url.startsWith('mqtts://')) {
    const key = (['caFile', 'certFile', 'keyFile'] as const).find((k) => settings[k] !== undefined);
    if (key !== undefined) throw new ConfigError(`mqtt.${key}`, 'only with an mqtts:// url');
    return {};
  }
  return readTlsFiles(settings, 'mqtt');
}

/**
 * The MQTT interface (CONTRACT §8): status out, energy-manager commands in through the Modbus
 * model, Home Assistant discovery. It talks to the broker and to nothing else: a broker that is
 * slow, gone or hostile meets bounded queues and never reaches the charging core (§10).
 */
export class MqttApi {
  readonly topics: Topics;
  readonly #o: MqttApiOptions;
  readonly #log: Logger;
  readonly #tls: TlsFiles;
  readonly #outbox = new Outbox(OUTBOX_LIMIT);
  #client: MqttClient | null = null;
  #protocolVersion: 4 | 5 = 5;
  #inFlight = 0;
  /** Counts connections: acknowledgements of a dropped one no longer count as in flight. */
  #connection = 0;
  #backoffMs = BACKOFF_FIRST_MS;
  #reconnectTimer: TimerHandle | null = null;
  #statusTimer: TimerHandle | null = null;
  #lastStatus: string | null = null;
  #lastStatusMs = 0;
  #lastError = '';
  #stopped = false;
  #unsubscribe: Array<() => void> = [];

  private constructor(options: MqttApiOptions, tls: TlsFiles) {
    this.#o = options;
    this.#tls = tls;
    this.#log = options.log.child({ module: 'mqtt' });
    this.topics = topicsFor(topicPrefix(options.settings.topicPrefix, options.device.serialNumber));
  }

  /** Reads the certificate files (ConfigError naming the key); connects at start(). */
  static async create(options: MqttApiOptions): Promise<MqttApi> {
    return new MqttApi(options, await checkMqttSettings(options.settings));
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /** Connects in the background: a broker that is not there is retried with backoff, never waited for. */
  start(): void {
    const { settings, clock } = this.#o;
    const client = new MqttClient(() => this.#openSocket(), this.#clientOptions());
    this.#client = client;
    client.on('connect', () => this.#onConnect());
    client.on('close', () => this.#onClose());
    client.on('error', (err) => this.#onError(err as Error & { code?: unknown }));
    client.on('message', (topic, payload, packet) => void this.#onMessage(topic, payload, packet));
    this.#unsubscribe.push(
      this.#o.onChange(() => this.#statusSoon()),
      every(clock, STATUS_MIN_INTERVAL_MS, () => this.#statusSoon()),
    );
    this.#log.info('MQTT connecting', {
      url: printableUrl(settings.url),
      topicPrefix: this.topics.prefix,
      homeAssistant: settings.homeAssistant,
    });
  }

  /** A clean stop: `offline` retained (the broker keeps the will for connections that die), then disconnect. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    for (const timer of [this.#reconnectTimer, this.#statusTimer]) if (timer !== null) this.#o.clock.clearTimeout(timer);
    const client = this.#client;
    if (client === null) return;
    await new Promise<void>((resolve) => {
      const timer = this.#o.clock.setTimeout(() => client.end(true, {}, () => resolve()), STOP_TIMEOUT_MS);
      const end = (): void => {
        client.end(false, {}, () => {
          this.#o.clock.clearTimeout(timer);
          resolve();
        });
      };
      if (client.connected) client.publish(this.topics.availability, 'offline', { qos: 1, retain: true }, end);
      else end();
    });
    this.#log.info('MQTT stopped');
  }

  /** The link to the broker (mqtt:// or mqtts://), cut when the broker announces a packet over MAX_PACKET_BYTES. */
  #openSocket(): Socket {
    const url = new URL(this.#o.settings.url);
    const secure = url.protocol === 'mqtts:';
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? (secure ? 8883 : 1883) : Number(url.port);
    const { ca, client } = this.#tls;
    const socket = secure
      ? tlsConnect({
          host,
          port,
          ...(isIP(host) === 0 && { servername: host }),
          ...(ca !== undefined && { ca }),
          ...(client !== undefined && { cert: client.cert, key: client.key }),
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
        })
      : netConnect({ host, port });
    const guard = new PacketSizeGuard(MAX_PACKET_BYTES);
    socket.on('data', (chunk: Buffer) => {
      if (!guard.feed(chunk))
        socket.destroy(Object.assign(new Error(`the broker sent a packet over ${MAX_PACKET_BYTES} bytes`), { code: 'EMSGSIZE' }));
    });
    return socket;
  }

  #clientOptions(): IClientOptions {
    const { settings, device } = this.#o;
    const url = new URL(settings.url);
    // Credentials in the URL count like mqtt.username / mqtt.password (which win).
    const username = settings.username ?? (url.username === '' ? undefined : decodeURIComponent(url.username));
    const password = settings.password ?? (url.password === '' ? undefined : decodeURIComponent(url.password));
    return {
      protocolVersion: this.#protocolVersion,
      clientId: `wallbox_${topicSafe(device.serialNumber)}`,
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      // Reconnects are ours (#onClose): with backoff, and without MQTT.js's unbounded offline queue.
      reconnectPeriod: 0,
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password }),
      will: { topic: this.topics.availability, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(this.#protocolVersion === 5 && { properties: { maximumPacketSize: MAX_PACKET_BYTES } }),
    };
  }

  #onConnect(): void {
    this.#backoffMs = BACKOFF_FIRST_MS;
    this.#lastError = '';
    this.#log.info('MQTT connected', { protocolVersion: this.#protocolVersion });
    this.#client?.subscribe(this.topics.commands, { qos: 1 }, (err) => {
      if (err) this.#log.warn('MQTT subscribe failed', { topic: this.topics.commands, err });
    });
    this.#send({ topic: this.topics.availability, payload: 'online', retain: true, kind: 'other' });
    const { device, settings, phaseSwitchingEnabled, maxCurrentA } = this.#o;
    for (const { topic, config } of discoveryMessages(
      this.topics,
      device,
      { phaseSwitchingEnabled, maxCurrentA },
      settings.homeAssistant,
    )) {
      this.#send({ topic, payload: config === null ? '' : JSON.stringify(config), retain: true, kind: 'other' });
    }
    this.#publishStatus(true);
  }

  #onClose(): void {
    this.#connection += 1;
    this.#inFlight = 0;
    if (this.#stopped || this.#reconnectTimer !== null) return;
    const delayMs = Math.round(this.#backoffMs * (0.8 + 0.2 * Math.random()));
    this.#backoffMs = Math.min(Math.max(this.#backoffMs * 2, BACKOFF_FIRST_MS), BACKOFF_MAX_MS);
    this.#reconnectTimer = this.#o.clock.setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#stopped || this.#client === null) return;
      this.#client.options.protocolVersion = this.#protocolVersion;
      if (this.#protocolVersion === 4) delete this.#client.options.properties;
      this.#client.reconnect();
    }, delayMs);
  }

  #onError(err: Error & { code?: unknown }): void {
    if (this.#protocolVersion === 5 && typeof err.code === 'number' && PROTOCOL_REFUSED.has(err.code)) {
      // A broker that speaks MQTT 3.1.1 only: the next attempt is 3.1.1, at once.
      this.#protocolVersion = 4;
      this.#backoffMs = 0;
      this.#log.info('MQTT broker refused MQTT 5; using MQTT 3.1.1');
      return;
    }
    // One line per kind of failure, not one per retry.
    if (err.message === this.#lastError) return;
    this.#lastError = err.message;
    this.#log.warn('MQTT connection failed; retrying with backoff', { err: err.message, url: printableUrl(this.#o.settings.url) });
  }

  async #onMessage(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const parsed = parseCommand(this.topics, topic, payload, packet.retain, { phaseSwitchingEnabled: this.#o.phaseSwitchingEnabled });
    if (!parsed.ok) return this.#refuse(topic, parsed.reason);
    let refused: ExceptionCode | null;
    try {
      refused = await this.#o.energyManager.command(parsed.name, parsed.raw);
    } catch (err) {
      // Never the firmware's problem: the command fails, the box goes on.
      this.#log.error('MQTT command failed', { topic, err });
      return this.#refuse(topic, 'internal error (logged)');
    }
    if (refused !== null) return this.#refuse(topic, `refused by the energy-manager input (Modbus exception ${refused})`);
    this.#log.debug('MQTT command carried out', { topic, raw: parsed.raw });
    this.#statusSoon();
  }

  #refuse(topic: string, reason: string): void {
    this.#log.debug('MQTT command refused', { topic, reason });
    this.#send({ topic: this.topics.error, payload: JSON.stringify({ topic, reason }), retain: false, kind: 'reply' });
  }

  /** The status, if it changed (or is due) and the last one went out long enough ago; else later. */
  #statusSoon(): void {
    if (this.#statusTimer !== null || !this.connected) return;
    const waitMs = Math.max(0, this.#lastStatusMs + STATUS_MIN_INTERVAL_MS - this.#o.clock.now());
    this.#statusTimer = this.#o.clock.setTimeout(() => {
      this.#statusTimer = null;
      this.#publishStatus(false);
    }, waitMs);
  }

  #publishStatus(always: boolean): void {
    if (!this.connected) return;
    const nowMs = this.#o.clock.now();
    const payload = JSON.stringify(statusPayload(this.#o.status()));
    if (!always && payload === this.#lastStatus && nowMs - this.#lastStatusMs < STATUS_PERIOD_MS) return;
    this.#lastStatus = payload;
    this.#lastStatusMs = nowMs;
    this.#send({ topic: this.topics.status, payload, retain: true, kind: 'status' });
  }

  #send(message: Outgoing): void {
    const dropped = this.#outbox.push(message);
    if (dropped !== null) this.#log.warn('MQTT outbox full: oldest message dropped', { topic: dropped.topic, kind: dropped.kind });
    this.#flush();
  }

  /** Hands queued messages to MQTT.js while connected, at most MAX_IN_FLIGHT unacknowledged. */
  #flush(): void {
    const client = this.#client;
    while (client?.connected && this.#inFlight < MAX_IN_FLIGHT) {
      const message = this.#outbox.shift();
      if (message === undefined) return;
      const connection = this.#connection;
      this.#inFlight += 1;
      client.publish(message.topic, message.payload, { qos: 1, retain: message.retain }, () => {
        if (connection !== this.#connection) return;
        this.#inFlight -= 1;
        this.#flush();
      });
    }
  }
}

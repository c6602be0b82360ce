import { Type, type Static, type TObject, type TUnsafe } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { readFile } from 'node:fs/promises';
import { compileCheck } from './schema-check/compile.js';

/** CONTRACT §2: the installer's configuration. Defaults live in the schema. */

const Port = (port: number) => Type.Integer({ minimum: 0, maximum: 65535, default: port });
const Endpoint = (port: number) =>
  Type.Object({ host: Type.String({ minLength: 1, default: '127.0.0.1' }), port: Port(port) }, { additionalProperties: false });
const Strict = { additionalProperties: false, default: {} } as const;

/**
 * An object or null. Written as `nullable` rather than anyOf so that ajv fills the object's
 * defaults and reports errors inside it under their own key.
 */
function Nullable<T extends TObject>(schema: T, defaultValue: Static<T> | null): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...schema, nullable: true, default: defaultValue });
}

const Evse = Type.Object(
  {
    maxCurrentA: Type.Number({ minimum: 6, maximum: 80, default: 32 }),
    phases: Type.Union([Type.Literal(1), Type.Literal(3)], { default: 3 }),
    voltageV: Type.Number({ minimum: 100, maximum: 280, default: 230 }),
    cable: Type.Union([Type.Literal('socket'), Type.Literal('tethered')], { default: 'socket' }),
    ventilation: Type.Boolean({ default: false }),
    minOffS: Type.Number({ minimum: 0, maximum: 3600, default: 5 }),
    phaseSwitching: Type.Object(
      {
        enabled: Type.Boolean({ default: false }),
        minIntervalS: Type.Number({ minimum: 0, maximum: 86400, default: 300 }),
        pauseS: Type.Number({ minimum: 0, maximum: 600, default: 10 }),
      },
      Strict,
    ),
  },
  Strict,
);

const Rtu = Type.Object(
  {
    path: Type.String({ minLength: 1 }),
    baudRate: Type.Integer({ minimum: 1200, maximum: 921600, default: 9600 }),
    parity: Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], { default: 'none' }),
    dataBits: Type.Union([Type.Literal(7), Type.Literal(8)], { default: 8 }),
    stopBits: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1 }),
  },
  { additionalProperties: false },
);

const Modbus = Type.Object(
  {
    unitId: Type.Integer({ minimum: 1, maximum: 247, default: 1 }),
    tcp: Nullable(Endpoint(4701), { host: '127.0.0.1', port: 4701 }),
    rtu: Nullable(Rtu, null),
    /** Modbus 8081: the limit 8093 starts with after boot, A (0 = paused); null = evse.maxCurrentA. */
    bootCurrentA: Type.Union([Type.Null(), Type.Literal(0), Type.Number({ minimum: 6, maximum: 80 })], { default: null }),
    timeoutS: Type.Number({ minimum: 0, maximum: 86400, default: 0 }),
    failsafeCurrentA: Type.Number({ minimum: 0, maximum: 80, default: 6 }),
  },
  Strict,
);

const Ocpp = Type.Object(
  {
    url: Type.String({ pattern: '^wss?://[^\\s]+$' }),
    chargeBoxId: Type.String({ minLength: 1, maxLength: 48, pattern: '^[^/\\s]+$' }),
    password: Type.String({ maxLength: 40, default: '' }),
    connectorId: Type.Integer({ minimum: 1, default: 1 }),
    fixedIdTag: Type.String({ maxLength: 20, default: '' }),
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    certFile: Type.Optional(Type.String({ minLength: 1 })),
    keyFile: Type.Optional(Type.String({ minLength: 1 })),
    insecureTls: Type.Boolean({ default: false }),
    /** The OCPP limit while the central system has been unreachable for offlineAfterS (A, 0 = pause); null = none. */
    offlineLimitA: Type.Union([Type.Null(), Type.Literal(0), Type.Number({ minimum: 6, maximum: 80 })], { default: null }),
    offlineAfterS: Type.Integer({ minimum: 0, maximum: 86400, default: 300 }),
  },
  { additionalProperties: false },
);

/** The grid operator's control input (§14a EnWG): a relay contact of its control box or ripple control receiver. */
const Grid = Type.Object(
  {
    /** Power allowed while the signal is active, W (converted with the phases energised; never below 6 A). */
    limitW: Type.Number({ minimum: 0, maximum: 100000, default: 4200 }),
    /** The contact state that means "limit". */
    activeWhen: Type.Union([Type.Literal('closed'), Type.Literal('open')], { default: 'closed' }),
  },
  { additionalProperties: false },
);

/**
 * CONTRACT §8: the MQTT broker. `topicPrefix` unset means "wallbox/<serial number>"; it may not
 * hold wildcards, start with `$` (broker topics) or `/`, or end with `/`.
 */
const Mqtt = Type.Object(
  {
    url: Type.String({ pattern: '^mqtts?://[^\\s]+$' }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 256 })),
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    certFile: Type.Optional(Type.String({ minLength: 1 })),
    keyFile: Type.Optional(Type.String({ minLength: 1 })),
    topicPrefix: Type.Optional(Type.String({ maxLength: 128, pattern: '^(?![$/])[^#+\\u0000]*[^#+/\\u0000]$' })),
    homeAssistant: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    board: Type.String({ minLength: 1, pattern: '^[a-z0-9-]+$', default: 'sim' }),
    dataDir: Type.String({ minLength: 1, default: './data' }),
    evse: Evse,
    modbus: Modbus,
    ocpp: Nullable(Ocpp, null),
    http: Nullable(Endpoint(8080), { host: '127.0.0.1', port: 8080 }),
    mqtt: Nullable(Mqtt, null),
    grid: Nullable(Grid, null),
    sim: Type.Object(
      {
        controlPort: Port(4780),
        signedMeter: Type.Boolean({ default: false }),
        /** CONTRACT §5: the host clock counts as NTP-synchronised (false: the central system's time is used). */
        clockSynced: Type.Boolean({ default: true }),
      },
      Strict,
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

/** A config that cannot be used; `key` is the dotted path of the offending key. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(key ? `${key}: ${reason}` : reason);
    this.name = 'ConfigError';
  }
}

const validate = compileCheck<Config>('config', ConfigSchema);

/** Checks `raw` against the schema and fills in the defaults; throws ConfigError naming the key. */
export function parseConfig(raw: unknown): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('', 'the config must be a JSON object');
  const config: unknown = structuredClone(raw); // ajv writes the defaults into what it checks
  if (!validate(config)) throw toConfigError(validate.errors ?? []);
  return config;
}

/** Reads, checks and completes the config file at `path`; no path means every default. */
export async function loadConfigFile(path: string | undefined): Promise<Config> {
  if (path === undefined) return parseConfig({});
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError('', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('', `${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseConfig(raw);
}

/** The dotted key of a schema error, e.g. `evse.maxCurrentA`. */
function keyOf(error: ErrorObject): string {
  const path = error.instancePath.split('/').slice(1).join('.');
  if (error.keyword === 'additionalProperties') {
    const extra = String((error.params as { additionalProperty: string }).additionalProperty);
    return path ? `${path}.${extra}` : extra;
  }
  if (error.keyword === 'required') {
    const missing = String((error.params as { missingProperty: string }).missingProperty);
    return path ? `${path}.${missing}` : missing;
  }
  return path;
}

/** Picks the error a person should read: the deepest one, not the anyOf summary around it. */
function toConfigError(errors: ErrorObject[]): ConfigError {
  const informative = errors.filter((e) => e.keyword !== 'anyOf');
  const pool = informative.length > 0 ? informative : errors;
  const best = pool.reduce((a, b) => (keyOf(b).split('.').length > keyOf(a).split('.').length ? b : a));
  const key = keyOf(best);
  if (errors.some((e) => e.keyword === 'anyOf' && keyOf(e) === key)) {
    // A value with several allowed forms: name them all ("must be null or must be >= 6").
    const forms = [...new Set(pool.filter((e) => keyOf(e) === key).map((e) => e.message ?? 'is invalid'))];
    return new ConfigError(key, forms.join(' or '));
  }
  const reason =
    best.keyword === 'additionalProperties' ? 'unknown key' : best.keyword === 'required' ? 'is required' : (best.message ?? 'is invalid');
  return new ConfigError(key, reason);
}

/** The value at a dotted key, or undefined. */
export function getKey(config: unknown, key: string): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A copy of `config` with `value` at the dotted key. */
export function withKey<T>(config: T, key: string, value: unknown): T {
  const copy = structuredClone(config) as Record<string, unknown>;
  const parts = key.split('.');
  let node = copy;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== 'object') {
      node[part] = {};
    }
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
  return copy as T;
}

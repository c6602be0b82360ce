import { isDeepStrictEqual } from 'node:util';
import { ConfigError, getKey, parseConfig, type Config } from '../config.js';
import { isJsonObject } from '../store/atomic-file.js';
import { HttpError } from './http-io.js';

/**
 * How a key written from the web takes effect: `now` (the OCPP and MQTT settings: the charge
 * point or the MQTT connection is restarted with them at once) or `restart` (read once at start:
 * the Modbus ports, the EVSE settings, the web server's own address, the grid operator input).
 */
export type ApplyMode = 'now' | 'restart';

/** The keys the web interface may write, each kept as one entry of the run-time overlay. */
export const WRITABLE_KEYS: Readonly<Record<string, ApplyMode>> = {
  'evse.maxCurrentA': 'restart',
  'evse.phases': 'restart',
  'evse.voltageV': 'restart',
  'evse.cable': 'restart',
  'evse.ventilation': 'restart',
  'evse.minOffS': 'restart',
  'evse.phaseSwitching': 'restart',
  'modbus.unitId': 'restart',
  'modbus.tcp': 'restart',
  'modbus.rtu': 'restart',
  'modbus.bootCurrentA': 'restart',
  'modbus.timeoutS': 'restart',
  'modbus.failsafeCurrentA': 'restart',
  ocpp: 'now',
  mqtt: 'now',
  http: 'restart',
  grid: 'restart',
};

/** Sections merged key by key; `ocpp`, `mqtt`, `http` and `grid` are merged inside their object. */
const LEAF_SECTIONS = ['evse', 'modbus'] as const;

type JsonObject = Record<string, unknown>;

const isObject = isJsonObject<JsonObject>;

/** A section with its password replaced by `passwordSet`. */
function withoutPassword(section: { readonly password?: string } | null): JsonObject | null {
  if (section === null) return null;
  const { password, ...visible } = section;
  return { ...visible, passwordSet: password !== undefined && password !== '' };
}

/** The config as the API shows it: secrets are write-only (`ocpp.password`, `mqtt.password` become `passwordSet`). */
export function maskedConfig(config: Config): JsonObject {
  return { ...config, ocpp: withoutPassword(config.ocpp), mqtt: withoutPassword(config.mqtt) };
}

/** `current` merged with `patch` one level into each object (JSON merge patch: null removes an optional key). */
function mergeObject(current: JsonObject | null, patch: unknown, key: string): JsonObject | null {
  if (patch === null) return null;
  if (!isObject(patch)) throw new HttpError(400, `${key}: must be an object or null`);
  const merged: JsonObject = { ...(current ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null && (key === 'ocpp' || key === 'mqtt')) delete merged[k];
    else merged[k] = v;
  }
  return merged;
}

export interface ConfigChange {
  readonly config: Config;
  /** The writable keys whose value changes, with how each applies. */
  readonly changed: ReadonlyArray<{ readonly key: string; readonly apply: ApplyMode }>;
}

/** The host name of a URL, lower case; null when it does not parse. */
function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * The stored OCPP password (AuthorizationKey) never follows `ocpp.url` to another host: a new
 * host name needs `ocpp.password` in the same patch ("" = none). Another port, path or ws → wss
 * on the same host keeps it.
 */
function requirePasswordForNewHost(current: Config, next: Config, patch: JsonObject): void {
  if (current.ocpp === null || next.ocpp === null || current.ocpp.password === '') return;
  const given = patch['ocpp'];
  if (isObject(given) && 'password' in given) return;
  if (hostOf(current.ocpp.url) === hostOf(next.ocpp.url)) return;
  throw new HttpError(400, 'ocpp.password: required again for a central system on another host (the stored one is not sent there)');
}

/**
 * The config after the web's `patch` (a partial config: `{"ocpp": {"url": …}}`), checked with the
 * same schema as the config file; 400 naming the key. A password (`ocpp`, `mqtt`) left out keeps the stored one.
 */
export function patchConfig(current: Config, patch: unknown): ConfigChange {
  if (!isObject(patch)) throw new HttpError(400, 'body: must be a JSON object');
  const next = structuredClone(current) as unknown as JsonObject;
  for (const [section, value] of Object.entries(patch)) {
    if ((LEAF_SECTIONS as readonly string[]).includes(section)) {
      if (!isObject(value)) throw new HttpError(400, `${section}: must be an object`);
      next[section] = { ...(next[section] as JsonObject), ...value };
    } else if (section === 'ocpp' || section === 'mqtt' || section === 'http' || section === 'grid') {
      next[section] = mergeObject(next[section] as JsonObject | null, value, section);
    } else if (section in current) {
      throw new HttpError(400, `${section}: not writable from the web interface (config file only)`);
    } else {
      throw new HttpError(400, `${section}: unknown key`);
    }
  }
  let config: Config;
  try {
    config = parseConfig(next);
  } catch (err) {
    if (err instanceof ConfigError) throw new HttpError(400, err.message);
    throw err;
  }
  requirePasswordForNewHost(current, config, patch);
  const changed = Object.entries(WRITABLE_KEYS)
    .filter(([key]) => !isDeepStrictEqual(getKey(current, key), getKey(config, key)))
    .map(([key, apply]) => ({ key, apply }));
  return { config, changed };
}

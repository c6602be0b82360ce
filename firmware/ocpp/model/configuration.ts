import { Type } from '@sinclair/typebox';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import { readStoredJson, saveFile } from '../../store/atomic-file.js';
import { storedCheck } from './stored-check.js';

type KeyType = 'boolean' | 'integer' | 'measurands' | 'units' | 'text';

interface KeyDef {
  readonly type: KeyType;
  readonly readonly: boolean;
  readonly value: string;
  /** Lowest value of an integer key. */
  readonly min?: number;
}

/** Measurands this charge point can sample (OCPP 1.6 §9.1.11 MeterValuesSampledData). */
export const SUPPORTED_MEASURANDS = [
  'Energy.Active.Import.Register',
  'Power.Active.Import',
  'Current.Import',
  'Current.Offered',
  'Voltage',
] as const;
export type Measurand = (typeof SUPPORTED_MEASURANDS)[number];

/**
 * The configuration keys (OCPP 1.6 §9) with their defaults; CONTRACT §5 fixes the authorisation
 * ones. Feature profiles: Core, LocalAuthListManagement, Reservation, RemoteTrigger, SmartCharging.
 */
const KEYS: Readonly<Record<string, KeyDef>> = {
  AllowOfflineTxForUnknownId: { type: 'boolean', readonly: false, value: 'false' },
  AuthorizationCacheEnabled: { type: 'boolean', readonly: false, value: 'true' },
  AuthorizeRemoteTxRequests: { type: 'boolean', readonly: false, value: 'false' },
  ClockAlignedDataInterval: { type: 'integer', readonly: false, value: '0', min: 0 },
  ConnectionTimeOut: { type: 'integer', readonly: false, value: '60', min: 1 },
  ConnectorPhaseRotation: { type: 'text', readonly: false, value: '0.RST,1.RST' },
  GetConfigurationMaxKeys: { type: 'integer', readonly: true, value: '64' },
  HeartbeatInterval: { type: 'integer', readonly: false, value: '300', min: 1 },
  LocalAuthorizeOffline: { type: 'boolean', readonly: false, value: 'true' },
  LocalPreAuthorize: { type: 'boolean', readonly: false, value: 'false' },
  MeterValuesAlignedData: { type: 'measurands', readonly: false, value: 'Energy.Active.Import.Register' },
  MeterValuesAlignedDataMaxLength: { type: 'integer', readonly: true, value: '5' },
  MeterValuesSampledData: {
    type: 'measurands',
    readonly: false,
    value: 'Energy.Active.Import.Register,Power.Active.Import,Current.Import,Current.Offered',
  },
  MeterValuesSampledDataMaxLength: { type: 'integer', readonly: true, value: '5' },
  MeterValueSampleInterval: { type: 'integer', readonly: false, value: '60', min: 0 },
  NumberOfConnectors: { type: 'integer', readonly: true, value: '1' },
  ResetRetries: { type: 'integer', readonly: false, value: '3', min: 0 },
  StopTransactionOnEVSideDisconnect: { type: 'boolean', readonly: true, value: 'true' },
  StopTransactionOnInvalidId: { type: 'boolean', readonly: false, value: 'true' },
  StopTxnAlignedData: { type: 'measurands', readonly: false, value: '' },
  StopTxnAlignedDataMaxLength: { type: 'integer', readonly: true, value: '5' },
  StopTxnSampledData: { type: 'measurands', readonly: false, value: 'Energy.Active.Import.Register' },
  StopTxnSampledDataMaxLength: { type: 'integer', readonly: true, value: '5' },
  SupportedFeatureProfiles: { type: 'text', readonly: true, value: 'Core,LocalAuthListManagement,Reservation,RemoteTrigger,SmartCharging' },
  TransactionMessageAttempts: { type: 'integer', readonly: false, value: '3', min: 1 },
  TransactionMessageRetryInterval: { type: 'integer', readonly: false, value: '60', min: 0 },
  UnlockConnectorOnEVSideDisconnect: { type: 'boolean', readonly: false, value: 'true' },
  WebSocketPingInterval: { type: 'integer', readonly: false, value: '60', min: 0 },
  LocalAuthListEnabled: { type: 'boolean', readonly: false, value: 'true' },
  LocalAuthListMaxLength: { type: 'integer', readonly: true, value: '1000' },
  SendLocalListMaxLength: { type: 'integer', readonly: true, value: '100' },
  ReserveConnectorZeroSupported: { type: 'boolean', readonly: true, value: 'false' },
  ChargeProfileMaxStackLevel: { type: 'integer', readonly: true, value: '8' },
  // The operator may narrow the units; the charge point itself honours both.
  ChargingScheduleAllowedChargingRateUnit: { type: 'units', readonly: false, value: 'Current,Power' },
  // 96: a day of quarter-hour tariff periods.
  ChargingScheduleMaxPeriods: { type: 'integer', readonly: true, value: '96' },
  MaxChargingProfilesInstalled: { type: 'integer', readonly: true, value: '16' },
  // What the box is built as: set from the config at load.
  ConnectorSwitch3to1PhaseSupported: { type: 'boolean', readonly: true, value: 'false' },
  // Security extension (OCPP 1.6 security whitepaper). SecurityProfile and AuthorizationKey are
  // owned by the link (`own`); these are plain keys.
  CpoName: { type: 'text', readonly: false, value: '' },
  CertificateStoreMaxLength: { type: 'integer', readonly: true, value: '10' },
  AdditionalRootCertificateCheck: { type: 'boolean', readonly: false, value: 'false' },
};

/**
 * `dataDir/ocpp-configuration.json`: the values the central system changed, by key. Each is taken
 * only when it is valid for its key now (a value a later version refuses falls back to the default).
 */
const isStoredValues = storedCheck(Type.Record(Type.String(), Type.Unknown()));

/** A key whose value and changes belong to a service (the link owns SecurityProfile and AuthorizationKey). */
export interface OwnedKey {
  /** The value GetConfiguration shows; undefined = write-only (listed without a value). */
  value(): string | undefined;
  change(value: string): Promise<ChangeResult>;
}

export type ChangeResult = 'Accepted' | 'Rejected' | 'RebootRequired' | 'NotSupported';

/** The OCPP configuration keys, with the values the central system changed kept in `dataDir`. */
export class OcppConfiguration {
  readonly #path: string | null;
  readonly #log: Logger;
  #values: Record<string, string>;
  readonly #listeners = new Set<(key: string) => void>();
  readonly #owned = new Map<string, OwnedKey>();

  private constructor(path: string | null, values: Record<string, string>, log: Logger) {
    this.#path = path;
    this.#values = values;
    this.#log = log;
  }

  /** The keys with the central system's stored changes; `facts` are the read-only values this box's build decides. */
  static async load(dataDir: string | null, log: Logger, facts: Readonly<Record<string, string>> = {}): Promise<OcppConfiguration> {
    const path = dataDir === null ? null : join(dataDir, 'ocpp-configuration.json');
    const stored = path === null ? {} : await readStoredJson(path, {}, isStoredValues, log);
    const values: Record<string, string> = {};
    for (const [key, def] of Object.entries(KEYS)) {
      const candidate = stored[key];
      if (def.readonly) values[key] = facts[key] ?? def.value;
      else values[key] = typeof candidate === 'string' && valid(def, candidate) ? candidate : def.value;
    }
    return new OcppConfiguration(path, values, log);
  }

  get(key: string): string | undefined {
    return this.#values[key];
  }

  integer(key: string): number {
    return Number.parseInt(this.#values[key] ?? '0', 10);
  }

  flag(key: string): boolean {
    return this.#values[key] === 'true';
  }

  list(key: string): Measurand[] {
    return (this.#values[key] ?? '').split(',').filter((m): m is Measurand => (SUPPORTED_MEASURANDS as readonly string[]).includes(m));
  }

  /** The charging-rate units a units key allows. */
  units(key: string): Array<'A' | 'W'> {
    return (this.#values[key] ?? '')
      .split(',')
      .flatMap((unit) => (unit === 'Current' ? ['A' as const] : unit === 'Power' ? ['W' as const] : []));
  }

  /** Hands `key`'s value and changes to a service. */
  own(key: string, owner: OwnedKey): void {
    this.#owned.set(key, owner);
  }

  /** GetConfiguration: the known keys asked for (all when none), and the unknown ones. */
  entries(keys: readonly string[] | undefined): { known: Array<{ key: string; readonly: boolean; value?: string }>; unknown: string[] } {
    const asked = keys && keys.length > 0 ? keys : [...Object.keys(KEYS), ...this.#owned.keys()];
    const isKnown = (key: string): boolean => Object.hasOwn(KEYS, key) || this.#owned.has(key);
    const known = asked.filter(isKnown).map((key) => {
      const owner = this.#owned.get(key);
      if (owner === undefined) return { key, readonly: (KEYS[key] as KeyDef).readonly, value: this.#values[key] ?? '' };
      const value = owner.value();
      return { key, readonly: false, ...(value !== undefined && { value }) };
    });
    return { known, unknown: asked.filter((key) => !isKnown(key)) };
  }

  /** ChangeConfiguration: unknown keys NotSupported, read-only keys and bad values Rejected. */
  async change(key: string, value: string): Promise<ChangeResult> {
    const owner = this.#owned.get(key);
    if (owner !== undefined) return owner.change(value);
    const def = KEYS[key];
    if (!def || !Object.hasOwn(KEYS, key)) return 'NotSupported';
    if (def.readonly || !valid(def, value)) return 'Rejected';
    this.#values = { ...this.#values, [key]: normalise(def, value) };
    if (this.#path !== null) await saveFile(this.#path, JSON.stringify(this.#changed(), null, 1), this.#log);
    this.#log.info('OCPP configuration changed', { key, value });
    for (const listener of this.#listeners) listener(key);
    return 'Accepted';
  }

  /** Calls `listener` with the key after every accepted change. */
  onChange(listener: (key: string) => void): void {
    this.#listeners.add(listener);
  }

  #changed(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.#values).filter(([key, value]) => KEYS[key]?.value !== value));
  }
}

function valid(def: KeyDef, value: string): boolean {
  switch (def.type) {
    case 'boolean':
      return /^(true|false)$/i.test(value);
    case 'integer':
      return /^\d+$/.test(value) && Number.parseInt(value, 10) >= (def.min ?? 0) && Number.parseInt(value, 10) <= 2 ** 31 - 1;
    case 'measurands': {
      const items = value === '' ? [] : value.split(',').map((m) => m.trim());
      return items.length <= 5 && items.every((m) => (SUPPORTED_MEASURANDS as readonly string[]).includes(m));
    }
    case 'units': {
      const items = value.split(',').map((u) => u.trim());
      return items.every((u) => u === 'Current' || u === 'Power') && new Set(items).size === items.length;
    }
    case 'text':
      return value.length <= 500;
    default:
      return false;
  }
}

function normalise(def: KeyDef, value: string): string {
  if (def.type === 'boolean') return value.toLowerCase();
  if (def.type === 'integer') return String(Number.parseInt(value, 10));
  if (def.type === 'measurands' || def.type === 'units')
    return value
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean)
      .join(',');
  return value;
}

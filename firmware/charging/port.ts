import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import type { Identification, SigningMeter, SigningMeterIdentity } from '../../hal/meter.js';
import type { PhaseCount } from '../../hal/phase-relay.js';
import type { FaultHistoryEntry } from '../safety/fault-log.js';
import { compileCheck } from '../schema-check/compile.js';
import type { ChargingStatus, UnlockResult } from './controller.js';

/**
 * The protocol side's view of the charging core (Modbus, OCPP, HTTP, MQTT see nothing else).
 * Two implementations: the ChargingController itself, in-process (tests, the fleet simulator),
 * and ChargingPortProxy, which reaches the controller of the control thread over a MessagePort
 * (port-proxy.ts, port-host.ts; README "Process structure").
 *
 * Adding an input is one line in PORT_CALLS (its arguments' schema) and the method here; adding a
 * request with an asynchronous reply is one line in PORT_REQUESTS and the method here. The host
 * and the proxy handle both generically.
 */

const CurrentA = Type.Number({ minimum: 0, maximum: 1000 });
const Phases = Type.Union([Type.Literal(1), Type.Literal(3)]);

/** Inputs of the charging core, applied in order: method name → the schema of its arguments. */
export const PORT_CALLS = {
  setModbusLimit: Type.Tuple([CurrentA, Type.Boolean()]),
  setOcppLimit: Type.Tuple([Type.Union([CurrentA, Type.Null()])]),
  setOcppAllowed: Type.Tuple([Type.Boolean()]),
  setUserPaused: Type.Tuple([Type.Boolean()]),
  setStoragePaused: Type.Tuple([Type.Boolean()]),
  setOcppConfigured: Type.Tuple([Type.Boolean()]),
  requestCpDisconnect: Type.Tuple([Type.Integer({ minimum: 0, maximum: 0xffff })]),
  requestPhases: Type.Tuple([Phases]),
} satisfies Record<string, TSchema>;

const voidResult: TUnsafe<void> = Type.Unsafe<void>({ type: 'null' });

/** Requests whose answer comes later: method name → the schemas of its arguments and its result. */
export const PORT_REQUESTS = {
  unlockConnector: { args: Type.Tuple([]), result: Type.Unsafe<UnlockResult>({ enum: ['Unlocked', 'UnlockFailed', 'NotSupported'] }) },
  clearFaults: { args: Type.Tuple([]), result: voidResult },
  settled: { args: Type.Tuple([]), result: voidResult },
  // The signing meter (CONTRACT §9) is hardware of the control side; OCPP begins and ends its transactions.
  meterIdentity: {
    args: Type.Tuple([]),
    result: Type.Unsafe<SigningMeterIdentity>(
      Type.Object({ meterType: Type.String(), meterSerialNumber: Type.String(), publicKeyPem: Type.String() }),
    ),
  },
  beginMeterTransaction: {
    args: Type.Tuple([
      Type.Unsafe<Identification>(
        Type.Object(
          {
            idTag: Type.String({ maxLength: 20 }),
            type: Type.Union([Type.Literal('ISO14443'), Type.Literal('CENTRAL'), Type.Literal('LOCAL')]),
          },
          { additionalProperties: false },
        ),
      ),
    ]),
    result: Type.String(),
  },
  endMeterTransaction: { args: Type.Tuple([]), result: Type.Union([Type.String(), Type.Null()]) },
} satisfies Record<string, { args: TSchema; result: TSchema }>;

export type PortCallName = keyof typeof PORT_CALLS;
export type PortCallArgs<K extends PortCallName> = Static<(typeof PORT_CALLS)[K]>;
export type PortRequestName = keyof typeof PORT_REQUESTS;
export type PortRequestArgs<K extends PortRequestName> = Static<(typeof PORT_REQUESTS)[K]['args']>;
export type PortRequestResult<K extends PortRequestName> = Static<(typeof PORT_REQUESTS)[K]['result']>;

type PortMethods = { [K in PortCallName]: (...args: PortCallArgs<K>) => unknown } & {
  [K in PortRequestName]: (...args: PortRequestArgs<K>) => Promise<PortRequestResult<K>>;
};

/** What the protocol side may ask of and read from the charging core. */
export interface ChargingPort extends PortMethods {
  /** The energy manager's inputs (Modbus 8093/8094 or the watchdog failsafe). */
  setModbusLimit(limitA: number, enabled: boolean): void;
  /** The limit of the OCPP charging profiles in force, A (null = none). */
  setOcppLimit(limitA: number | null): void;
  /** Whether OCPP permits charging: a transaction runs and the connector is available. */
  setOcppAllowed(allowed: boolean): void;
  /** The owner's pause from the web interface (volatile: a restart resumes). */
  setUserPaused(paused: boolean): void;
  /** A transaction's start is not on disk yet: no energy until it is (CONTRACT §6). */
  setStoragePaused(paused: boolean): void;
  /** OCPP was switched on or off at run time. */
  setOcppConfigured(configured: boolean): void;
  /** Modbus 8086: a CP disconnect of `seconds`; false when one or a phase switch runs. */
  requestCpDisconnect(seconds: number): boolean;
  /** Modbus 8087 / OCPP numberPhases; false when switching is not enabled. */
  requestPhases(phases: PhaseCount): boolean;
  /** OCPP UnlockConnector. */
  unlockConnector(): Promise<UnlockResult>;
  /** An installer clears the installer and restart latches. */
  clearFaults(): Promise<void>;
  /** Resolves once every input sent before has been applied and shows in status(). */
  settled(): Promise<void>;
  /** The signing meter's identity and key; rejects when the meter does not sign. */
  meterIdentity(): Promise<SigningMeterIdentity>;
  /** Begins the signing meter's transaction: the signed begin record. */
  beginMeterTransaction(identification: Identification): Promise<string>;
  /** Ends the signing meter's transaction: the signed end record, or null when none was open. */
  endMeterTransaction(): Promise<string | null>;
  status(): ChargingStatus;
  faultHistory(): readonly FaultHistoryEntry[];
  phaseSelection(): PhaseCount;
  readonly phaseSwitchingEnabled: boolean;
  /** Clock time of the last control pass that completed (null: none yet). */
  readonly lastPassMs: number | null;
  /** Calls `listener` after every change of state, outputs, offer or faults; returns the unsubscribe function. */
  onChange(listener: (status: ChargingStatus) => void): () => void;
}

/** Everything the protocol side reads, as the control side sends it after a change. */
export interface PortSnapshot {
  readonly status: ChargingStatus;
  readonly phaseSelection: PhaseCount;
  readonly phaseSwitchingEnabled: boolean;
  readonly lastPassMs: number | null;
  /** Sent only when it changed (null: unchanged since the last snapshot). */
  readonly faultHistory: readonly FaultHistoryEntry[] | null;
}

export type CallMessage = {
  [K in PortCallName]: { readonly type: 'call'; readonly name: K; readonly args: PortCallArgs<K> };
}[PortCallName];
export type RequestMessage = {
  [K in PortRequestName]: { readonly type: 'request'; readonly id: number; readonly name: K; readonly args: PortRequestArgs<K> };
}[PortRequestName];

/** Protocol side → control side. `alive` is the sign of life; any message counts as one. */
export type ToControl = { readonly type: 'alive' } | CallMessage | RequestMessage;

/** Control side → protocol side. */
export type ToProtocol =
  | { readonly type: 'snapshot'; readonly snapshot: PortSnapshot }
  | { readonly type: 'alive'; readonly lastPassMs: number | null }
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly error: string };

/** Either end of the channel: a worker_threads MessagePort (or a MessageChannel's port in tests). */
export interface PortEndpoint {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** How often each side shows it is alive. */
export const ALIVE_PERIOD_MS = 500;

/**
 * After this long without a message from the protocol side, the control side treats the Modbus
 * and OCPP inputs as stale (stale-inputs.ts): six missed signs of life, far beyond any pause of a
 * healthy event loop, and still below the shortest Modbus watchdog an energy manager is likely to set.
 */
export const STALE_AFTER_MS = 3000;

const strictObject = (properties: Record<string, TSchema>): TSchema => Type.Object(properties, { additionalProperties: false });
const ToControlSchema = Type.Union([
  strictObject({ type: Type.Literal('alive') }),
  ...Object.entries(PORT_CALLS).map(([name, args]) => strictObject({ type: Type.Literal('call'), name: Type.Literal(name), args })),
  ...Object.entries(PORT_REQUESTS).map(([name, { args }]) =>
    strictObject({ type: Type.Literal('request'), id: Type.Integer({ minimum: 0 }), name: Type.Literal(name), args }),
  ),
]);

/** The control side's check of every message from the protocol side (a wrong one is refused, never applied). */
export const isToControl = compileCheck<ToControl>('first', ToControlSchema);

const resultChecks = Object.fromEntries(Object.entries(PORT_REQUESTS).map(([name, { result }]) => [name, compileCheck('first', result)]));

/** The protocol side's check of a reply to `name`. */
export function isRequestResult<K extends PortRequestName>(name: K, result: unknown): result is PortRequestResult<K> {
  return resultChecks[name]?.(result) === true;
}

/** The control side's messages carry a known `type` (the control side is the trusted end). */
export function isToProtocol(message: unknown): message is ToProtocol {
  if (message === null || typeof message !== 'object') return false;
  const type = (message as { type?: unknown }).type;
  return type === 'snapshot' || type === 'alive' || type === 'reply';
}

/** The signing meter of the charging core's board, reached through its port (OCPP's view of it). */
export function signingMeterOf(port: Pick<ChargingPort, 'meterIdentity' | 'beginMeterTransaction' | 'endMeterTransaction'>): SigningMeter {
  return {
    identity: () => port.meterIdentity(),
    beginTransaction: (identification) => port.beginMeterTransaction(identification),
    endTransaction: () => port.endMeterTransaction(),
  };
}

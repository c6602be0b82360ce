/** The faults of CONTRACT §6. */
export const FAULT_KINDS = [
  'diode',
  'cpShort',
  'contactorWelded',
  'contactorStuckOpen',
  'rcd',
  'overCurrent',
  'meterLost',
  'lockFailure',
  // Not of CONTRACT §6's table: dataDir/faults.json was unreadable, so a latch it held may be lost
  // (§6: an unreadable fault latch counts as latched until an installer clears it).
  'storage',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** OCPP 1.6 ChargePointErrorCode reported with StatusNotification Faulted (CONTRACT §5). */
export const OCPP_ERROR_CODE = {
  diode: 'EVCommunicationError',
  cpShort: 'EVCommunicationError',
  contactorWelded: 'PowerSwitchFailure',
  contactorStuckOpen: 'PowerSwitchFailure',
  rcd: 'GroundFailure',
  overCurrent: 'OverCurrentFailure',
  meterLost: 'PowerMeterFailure',
  lockFailure: 'ConnectorLockFailure',
  storage: 'InternalError',
} as const satisfies Readonly<Record<FaultKind, string>>;

/** StatusNotification `info` (CiString50) for the faults whose error code alone does not say it. */
export const OCPP_ERROR_INFO: Readonly<Partial<Record<FaultKind, string>>> = {
  storage: 'fault store unreadable; installer must clear',
};

/**
 * How a fault ends: `unplug` when the car is unplugged (state A), `retry` by itself after
 * minOffS, `restart` at the next start of the firmware (or an installer's clear), `installer`
 * only by an installer (kept in dataDir across restarts), `recovers` as soon as the cause is gone.
 */
export type LatchRule = 'unplug' | 'retry' | 'restart' | 'installer' | 'recovers';

export interface Fault {
  readonly kind: FaultKind;
  /** When it was detected (clock ms). */
  readonly sinceMs: number;
  /** What was seen, for people. */
  readonly cause: string;
  readonly latch: LatchRule;
}

/**
 * Faults that stop charging. A lost meter does not: CONTRACT §6 keeps charging at the offered
 * current, without inventing energy.
 */
export function blocksCharging(kind: FaultKind): boolean {
  return kind !== 'meterLost';
}

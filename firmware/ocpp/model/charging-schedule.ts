import type {
  ChargingProfile,
  ChargingProfilePurpose,
  ChargingRateUnit,
  ChargingSchedule,
  ChargingSchedulePeriod,
  InstalledProfile,
} from './charging-profile.js';

/**
 * The limit that the installed charging profiles set at a moment, as pure functions of OCPP time
 * (ms since the epoch), after OCPP 1.6 §3.13: TxProfile over TxDefaultProfile (connector before
 * connector 0), both only during a transaction, capped by ChargePointMaxProfile; within a purpose
 * the highest stack level with a period in force wins. Every answer carries the next moment it
 * can change, so the caller sets one timer instead of polling.
 */

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const NEVER = Number.POSITIVE_INFINITY;

/** The figures that turn W into A (CONTRACT §4): `evse.voltageV` × the phases energised now. */
export interface Conversion {
  readonly voltageV: number;
  readonly phases: number;
}

export interface ProfileLimit {
  /** Null: no profile sets a limit now. */
  readonly limitA: number | null;
  /** The lowest numberPhases asked for by the profiles in force; null = none asked. */
  readonly numberPhases: number | null;
  /** The car's minimum from the transaction's profile, for information. */
  readonly minChargingRateA: number | null;
  /** When the answer may change next (Infinity: not by time alone). */
  readonly nextChangeMs: number;
}

interface PeriodInForce {
  readonly period: ChargingSchedulePeriod | null;
  readonly nextChangeMs: number;
}

/** A transaction for the profiles: its start is the basis of Relative schedules. */
export interface ScheduleTransaction {
  readonly startMs: number;
}

/** The period of `profile` in force at `tMs`, and when that may change. */
export function periodAt(profile: ChargingProfile, tMs: number, tx: ScheduleTransaction | null): PeriodInForce {
  const validFromMs = profile.validFrom === undefined ? -NEVER : Date.parse(profile.validFrom);
  const validToMs = profile.validTo === undefined ? NEVER : Date.parse(profile.validTo);
  if (tMs < validFromMs) return { period: null, nextChangeMs: validFromMs };
  if (tMs >= validToMs) return { period: null, nextChangeMs: NEVER };
  const schedule = profile.chargingSchedule;
  const cycle = cycleAt(profile, tMs, tx);
  if (cycle === null) return { period: null, nextChangeMs: validToMs };
  const endMs = Math.min(validToMs, cycle.endMs, schedule.duration === undefined ? NEVER : cycle.basisMs + schedule.duration * 1000);
  if (tMs >= endMs) return { period: null, nextChangeMs: Math.min(cycle.endMs, validToMs) };
  const periods = schedule.chargingSchedulePeriod;
  const offsetMs = tMs - cycle.basisMs;
  let index = -1;
  while (index + 1 < periods.length && (periods[index + 1] as ChargingSchedulePeriod).startPeriod * 1000 <= offsetMs) index += 1;
  const following = periods[index + 1];
  const followingMs = following === undefined ? NEVER : cycle.basisMs + following.startPeriod * 1000;
  return { period: periods[index] ?? null, nextChangeMs: Math.min(followingMs, endMs) };
}

/** Where the schedule's time 0 is at `tMs`, and where that cycle ends (recurring) — null without a basis. */
function cycleAt(profile: ChargingProfile, tMs: number, tx: ScheduleTransaction | null): { basisMs: number; endMs: number } | null {
  const { startSchedule } = profile.chargingSchedule;
  switch (profile.chargingProfileKind) {
    case 'Absolute':
      // Without startSchedule an absolute schedule counts from the start of charging (§7.13).
      if (startSchedule !== undefined) return { basisMs: Date.parse(startSchedule), endMs: NEVER };
      return tx === null ? null : { basisMs: tx.startMs, endMs: NEVER };
    case 'Relative':
      return tx === null ? null : { basisMs: tx.startMs, endMs: NEVER };
    case 'Recurring': {
      if (startSchedule === undefined) return null;
      const lengthMs = profile.recurrencyKind === 'Weekly' ? WEEK_MS : DAY_MS;
      const firstMs = Date.parse(startSchedule);
      // Before the first start the previous cycle's tail applies: the schedule repeats backwards too.
      const basisMs = firstMs + Math.floor((tMs - firstMs) / lengthMs) * lengthMs;
      return { basisMs, endMs: basisMs + lengthMs };
    }
  }
}

interface LayerValue {
  readonly profile: ChargingProfile;
  readonly period: ChargingSchedulePeriod;
}

/** One purpose's profiles stacked: the highest stack level with a period in force wins. */
function layerAt(
  profiles: readonly ChargingProfile[],
  tMs: number,
  tx: ScheduleTransaction | null,
): { value: LayerValue | null; nextChangeMs: number } {
  let value: LayerValue | null = null;
  let nextChangeMs = NEVER;
  for (const profile of [...profiles].sort((a, b) => b.stackLevel - a.stackLevel)) {
    const inForce = periodAt(profile, tMs, tx);
    nextChangeMs = Math.min(nextChangeMs, inForce.nextChangeMs);
    if (inForce.period !== null && value === null) value = { profile, period: inForce.period };
  }
  return { value, nextChangeMs };
}

function ofPurpose(installed: readonly InstalledProfile[], purpose: ChargingProfilePurpose, connectorId: number): ChargingProfile[] {
  return installed.filter((e) => e.profile.chargingProfilePurpose === purpose && e.connectorId === connectorId).map((e) => e.profile);
}

/** A limit in `unit` as amps. */
export function toAmps(limit: number, unit: ChargingRateUnit, conversion: Conversion): number {
  return unit === 'A' ? limit : limit / (conversion.voltageV * conversion.phases);
}

/** The limit the profiles set on `connectorId` at `tMs`, in A. */
export function limitAt(
  installed: readonly InstalledProfile[],
  connectorId: number,
  tMs: number,
  tx: ScheduleTransaction | null,
  conversion: Conversion,
): ProfileLimit {
  const cpMax = layerAt(ofPurpose(installed, 'ChargePointMaxProfile', 0), tMs, tx);
  let nextChangeMs = cpMax.nextChangeMs;
  let txValue: LayerValue | null = null;
  if (tx !== null) {
    for (const [purpose, on] of [
      ['TxProfile', connectorId],
      ['TxDefaultProfile', connectorId],
      ['TxDefaultProfile', 0],
    ] as const) {
      const layer = layerAt(ofPurpose(installed, purpose, on), tMs, tx);
      nextChangeMs = Math.min(nextChangeMs, layer.nextChangeMs);
      txValue = layer.value;
      if (txValue !== null) break;
    }
  }
  const inForce = [txValue, cpMax.value].filter((v): v is LayerValue => v !== null);
  const amps = inForce.map((v) => toAmps(v.period.limit, v.profile.chargingSchedule.chargingRateUnit, conversion));
  const phases = inForce.flatMap((v) => (v.period.numberPhases === undefined ? [] : [v.period.numberPhases]));
  const minRate = txValue?.profile.chargingSchedule.minChargingRate;
  return {
    limitA: amps.length === 0 ? null : Math.min(...amps),
    numberPhases: phases.length === 0 ? null : Math.min(...phases),
    minChargingRateA:
      txValue === null || minRate === undefined ? null : toAmps(minRate, txValue.profile.chargingSchedule.chargingRateUnit, conversion),
    nextChangeMs,
  };
}

export interface CompositeRequest {
  readonly connectorId: number;
  /** OCPP time of the schedule's start, ms. */
  readonly startMs: number;
  readonly durationS: number;
  readonly unit: ChargingRateUnit;
  /** The running transaction, or the one that would start now. */
  readonly tx: ScheduleTransaction | null;
  readonly conversion: Conversion;
  /** What the charge point offers where no profile sets a limit (`evse.maxCurrentA`). */
  readonly defaultLimitA: number;
}

/** Composite periods are cut here; more would mean a schedule the central system cannot use anyway. */
const MAX_COMPOSITE_PERIODS = 1000;

/** GetCompositeSchedule: the limits in force from `startMs` for `durationS`, in the unit asked for. */
export function compositeSchedule(installed: readonly InstalledProfile[], request: CompositeRequest): ChargingSchedule {
  const { startMs, conversion } = request;
  const endMs = startMs + request.durationS * 1000;
  const inUnit = (amps: number): number => roundDown(request.unit === 'A' ? amps : amps * conversion.voltageV * conversion.phases);
  const periods: ChargingSchedulePeriod[] = [];
  let tMs = startMs;
  let minChargingRate: number | null = null;
  do {
    const limit = limitAt(installed, request.connectorId, tMs, request.tx, conversion);
    if (tMs === startMs && limit.minChargingRateA !== null) minChargingRate = inUnit(limit.minChargingRateA);
    const period: ChargingSchedulePeriod = {
      startPeriod: Math.round((tMs - startMs) / 1000),
      limit: inUnit(limit.limitA ?? request.defaultLimitA),
      ...(limit.numberPhases !== null && { numberPhases: limit.numberPhases }),
    };
    // Periods are whole seconds: a change within the same second replaces what it follows.
    if (periods.at(-1)?.startPeriod === period.startPeriod) periods.pop();
    const last = periods.at(-1);
    if (last === undefined || last.limit !== period.limit || last.numberPhases !== period.numberPhases) periods.push(period);
    tMs = limit.nextChangeMs;
  } while (tMs < endMs && periods.length < MAX_COMPOSITE_PERIODS);
  return {
    duration: request.durationS,
    startSchedule: new Date(startMs).toISOString(),
    chargingRateUnit: request.unit,
    chargingSchedulePeriod: periods,
    ...(minChargingRate !== null && { minChargingRate }),
  };
}

/** To the 0.1 step of the OCPP schema, never up (a reported limit must not exceed the real one). */
export function roundDown(value: number): number {
  return Math.floor(value * 10 + 1e-6) / 10;
}

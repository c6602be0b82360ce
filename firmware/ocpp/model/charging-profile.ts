/** OCPP 1.6 smart charging data (§7.8 ChargingProfile, §7.13 ChargingSchedule) and what this charge point accepts. */

export type ChargingRateUnit = 'A' | 'W';
export type ChargingProfilePurpose = 'ChargePointMaxProfile' | 'TxDefaultProfile' | 'TxProfile';
export type ChargingProfileKind = 'Absolute' | 'Recurring' | 'Relative';
export type RecurrencyKind = 'Daily' | 'Weekly';

export interface ChargingSchedulePeriod {
  /** Seconds from the start of the schedule. */
  readonly startPeriod: number;
  /** In the schedule's unit; per phase for A. */
  readonly limit: number;
  readonly numberPhases?: number;
}

export interface ChargingSchedule {
  /** Seconds; absent = the last period runs on. */
  readonly duration?: number;
  readonly startSchedule?: string;
  readonly chargingRateUnit: ChargingRateUnit;
  readonly chargingSchedulePeriod: readonly ChargingSchedulePeriod[];
  /** The car's minimum, for information: it never raises a limit. */
  readonly minChargingRate?: number;
}

export interface ChargingProfile {
  readonly chargingProfileId: number;
  readonly transactionId?: number;
  readonly stackLevel: number;
  readonly chargingProfilePurpose: ChargingProfilePurpose;
  readonly chargingProfileKind: ChargingProfileKind;
  readonly recurrencyKind?: RecurrencyKind;
  readonly validFrom?: string;
  readonly validTo?: string;
  readonly chargingSchedule: ChargingSchedule;
}

/** A profile as installed: on connector 0 (the whole charge point) or on a connector. */
export interface InstalledProfile {
  readonly connectorId: number;
  readonly profile: ChargingProfile;
}

/** What the charge point can honour: the smart-charging configuration keys and the connector. */
export interface ProfileRules {
  readonly connectorId: number;
  /** ChargeProfileMaxStackLevel */
  readonly maxStackLevel: number;
  /** ChargingScheduleAllowedChargingRateUnit */
  readonly allowedUnits: readonly ChargingRateUnit[];
  /** ChargingScheduleMaxPeriods */
  readonly maxPeriods: number;
  /** MaxChargingProfilesInstalled */
  readonly maxInstalled: number;
}

/** The transaction a TxProfile must belong to: null = none runs; transactionId null = not yet confirmed. */
export type RunningTransaction = { readonly transactionId: number | null } | null;

/** Profiles a new one replaces: the same id, or the same purpose and stack level on the same connector (OCPP 1.6 §5.16). */
export function replacedBy(existing: InstalledProfile, next: InstalledProfile): boolean {
  const a = existing.profile;
  const b = next.profile;
  return (
    a.chargingProfileId === b.chargingProfileId ||
    (a.chargingProfilePurpose === b.chargingProfilePurpose && a.stackLevel === b.stackLevel && existing.connectorId === next.connectorId)
  );
}

/**
 * SetChargingProfile's check of what the schema cannot say: null when the charge point can honour
 * `candidate`, else why not (the central system gets Rejected; the reason goes to the log).
 */
export function profileProblem(
  candidate: InstalledProfile,
  installed: readonly InstalledProfile[],
  rules: ProfileRules,
  tx: RunningTransaction,
): string | null {
  const { connectorId, profile } = candidate;
  const schedule = profile.chargingSchedule;
  if (connectorId !== 0 && connectorId !== rules.connectorId) return `no connector ${connectorId}`;
  if (profile.stackLevel < 0 || profile.stackLevel > rules.maxStackLevel) return `stackLevel outside 0..${rules.maxStackLevel}`;
  switch (profile.chargingProfilePurpose) {
    case 'ChargePointMaxProfile':
      if (connectorId !== 0) return 'ChargePointMaxProfile only on connector 0';
      if (profile.chargingProfileKind === 'Relative') return 'ChargePointMaxProfile cannot be Relative';
      if (profile.chargingProfileKind === 'Absolute' && schedule.startSchedule === undefined)
        return 'ChargePointMaxProfile has no transaction to start from: startSchedule needed';
      break;
    case 'TxProfile':
      if (connectorId === 0) return 'TxProfile needs a connector';
      if (tx === null) return 'TxProfile without a transaction';
      if (profile.transactionId !== undefined && profile.transactionId !== tx.transactionId)
        return `transactionId ${profile.transactionId} is not the running transaction`;
      break;
    case 'TxDefaultProfile':
      break;
  }
  if (profile.transactionId !== undefined && profile.chargingProfilePurpose !== 'TxProfile') return 'transactionId only in a TxProfile';
  if (profile.chargingProfileKind === 'Recurring' && (profile.recurrencyKind === undefined || schedule.startSchedule === undefined)) {
    return 'Recurring needs recurrencyKind and startSchedule';
  }
  if (profile.validFrom !== undefined && profile.validTo !== undefined && Date.parse(profile.validTo) <= Date.parse(profile.validFrom))
    return 'validTo not after validFrom';
  if (!rules.allowedUnits.includes(schedule.chargingRateUnit)) return `unit ${schedule.chargingRateUnit} not allowed`;
  if (schedule.duration !== undefined && schedule.duration < 0) return 'negative duration';
  return periodsProblem(schedule.chargingSchedulePeriod, rules.maxPeriods) ?? capacityProblem(candidate, installed, rules.maxInstalled);
}

function periodsProblem(periods: readonly ChargingSchedulePeriod[], maxPeriods: number): string | null {
  if (periods.length === 0) return 'no periods';
  if (periods.length > maxPeriods) return `more than ${maxPeriods} periods`;
  let previous = -1;
  for (const period of periods) {
    // Periods in any other order would make "the period in force" ambiguous.
    if (period.startPeriod <= previous) return 'startPeriod not strictly increasing from 0 or more';
    previous = period.startPeriod;
    if (period.limit < 0) return 'negative limit';
    if (period.numberPhases !== undefined && (period.numberPhases < 1 || period.numberPhases > 3)) return 'numberPhases outside 1..3';
  }
  return null;
}

function capacityProblem(candidate: InstalledProfile, installed: readonly InstalledProfile[], maxInstalled: number): string | null {
  const remaining = installed.filter((existing) => !replacedBy(existing, candidate));
  return remaining.length >= maxInstalled ? `already ${remaining.length} profiles installed` : null;
}

/** ClearChargingProfile's selection: by id, or by whichever of connector, purpose and stack level are given. */
export interface ClearCriteria {
  readonly id?: number;
  readonly connectorId?: number;
  readonly chargingProfilePurpose?: ChargingProfilePurpose;
  readonly stackLevel?: number;
}

export function matchesClear(entry: InstalledProfile, criteria: ClearCriteria): boolean {
  if (criteria.id !== undefined) return entry.profile.chargingProfileId === criteria.id;
  return (
    (criteria.connectorId === undefined || criteria.connectorId === entry.connectorId) &&
    (criteria.chargingProfilePurpose === undefined || criteria.chargingProfilePurpose === entry.profile.chargingProfilePurpose) &&
    (criteria.stackLevel === undefined || criteria.stackLevel === entry.profile.stackLevel)
  );
}

import { codeableCurrentA, MIN_CURRENT_A } from './duty.js';

/** The inputs that may limit the current, in the order that wins a tie when naming the limiter. */
export const LIMIT_SOURCES = ['hardware', 'cable', 'modbus', 'ocpp', 'grid'] as const;
export type LimitSource = (typeof LIMIT_SOURCES)[number];

/** Why no current is offered although the limits might allow some. */
export type PauseReason = 'fault' | 'storage' | 'userPaused' | 'modbusDisabled' | 'ocppNotAllowed' | 'belowMinimum';

export interface ChargingLimits {
  /** `evse.maxCurrentA`: the installation limit. */
  readonly hardwareA: number;
  /** Rating of the inserted cable (socket variant); null for a tethered cable, whose PP is ignored. */
  readonly cableA: number | null;
  /** The energy manager's limit (8093, or the watchdog failsafe) and enable (8094). */
  readonly modbus: { readonly limitA: number; readonly enabled: boolean };
  /** Null when OCPP is not configured; otherwise the charging-profile limit (null = none) and permission. */
  readonly ocpp: { readonly limitA: number | null; readonly allowed: boolean } | null;
  /** While the grid operator's signal is active (§14a EnWG): `grid.limitW` in A with the phases energised; null or absent otherwise. */
  readonly gridA?: number | null;
  /** A fault is latched (CONTRACT §6). */
  readonly faultLatched: boolean;
  /** The owner paused charging on the web interface (independent of the energy manager's 8094). */
  readonly userPaused?: boolean;
  /** A transaction whose start is not on disk yet (dataDir cannot be written): no energy without a record (CONTRACT §6). */
  readonly storagePaused?: boolean;
}

export interface Offer {
  /** Current to put on the pilot, A; 0 = no PWM. Never above any input limit. */
  readonly offeredA: number;
  /** min() of all limits before pausing and coding. */
  readonly limitA: number;
  /** The input whose limit is the minimum. */
  readonly limitedBy: LimitSource;
  /** Null when offering; otherwise why not. */
  readonly pausedBy: PauseReason | null;
}

/**
 * CONTRACT §4: offered = min(hardware, cable, Modbus, OCPP, grid operator), and only while Modbus and OCPP
 * allow charging and no fault is latched. Whether the car is in C is the session's business.
 */
export function arbitrate(limits: ChargingLimits): Offer {
  const candidates: Record<LimitSource, number> = {
    hardware: sane(limits.hardwareA),
    cable: sane(limits.cableA ?? Infinity),
    modbus: sane(limits.modbus.limitA),
    ocpp: sane(limits.ocpp?.limitA ?? Infinity),
    grid: sane(limits.gridA ?? Infinity),
  };
  let limitedBy: LimitSource = 'hardware';
  for (const source of LIMIT_SOURCES) if (candidates[source] < candidates[limitedBy]) limitedBy = source;
  const limitA = candidates[limitedBy];
  const pausedBy = pauseReason(limits, limitA);
  return { offeredA: pausedBy === null ? codeableCurrentA(limitA) : 0, limitA, limitedBy, pausedBy };
}

/** A limit that is not a number allows nothing (min() would silently skip NaN). */
function sane(limitA: number): number {
  return Number.isNaN(limitA) ? 0 : limitA;
}

function pauseReason(limits: ChargingLimits, limitA: number): PauseReason | null {
  if (limits.faultLatched) return 'fault';
  if (limits.storagePaused === true) return 'storage';
  if (limits.userPaused === true) return 'userPaused';
  if (!limits.modbus.enabled) return 'modbusDisabled';
  if (limits.ocpp !== null && !limits.ocpp.allowed) return 'ocppNotAllowed';
  if (!(limitA >= MIN_CURRENT_A)) return 'belowMinimum';
  return null;
}

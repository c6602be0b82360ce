import type { PhaseCount } from '../../hal/phase-relay.js';
import { MIN_CURRENT_A } from './duty.js';
import { NOT_DRAWING_BELOW_A } from './interruption.js';

/**
 * The grid operator's control signal (§14a EnWG, CONTRACT §4): while it is active the wallbox
 * may draw `grid.limitW`, converted to a current with the phases energised now, and never less
 * than 6 A (a car cannot charge below it; §14a itself guarantees 4.2 kW).
 */
export interface GridSettings {
  /** `grid.limitW` */
  readonly limitW: number;
  /** `grid.activeWhen`: the contact state that means "limit". */
  readonly activeWhen: 'closed' | 'open';
  /** `evse.voltageV`, for W → A. */
  readonly voltageV: number;
}

/** Whether the contact's state means "limit". */
export function gridSignalActive(contactClosed: boolean, activeWhen: GridSettings['activeWhen']): boolean {
  return contactClosed === (activeWhen === 'closed');
}

/**
 * W → A with the phases energised: A = W / (V × phases), down to the 0.1 A the pilot codes (so
 * the power stays within the limit), and 6 A at least. 4200 W at 230 V: 6.0 A on three phases,
 * 18.2 A on one.
 */
export function gridLimitA(limitW: number, voltageV: number, phases: number): number {
  // The small epsilon keeps an exact quotient (16.1 A) from being floored to 16.0 by binary rounding.
  const deciA = Math.floor((limitW / (voltageV * phases)) * 10 + 1e-9);
  return Math.max(MIN_CURRENT_A, deciA / 10);
}

/**
 * The phases a car draws on, from the meter while every wired phase is energised: the phases
 * carrying at least 1 A; null while it draws (almost) nothing, when nothing can be told.
 */
export function carPhasesFrom(currentsA: readonly number[]): number | null {
  const drawing = currentsA.filter((a) => a >= Math.max(1, NOT_DRAWING_BELOW_A)).length;
  return drawing === 0 ? null : drawing;
}

export interface GridPhaseInput {
  readonly limitW: number;
  readonly voltageV: number;
  /** Phases the car draws on (1..3), as seen on three energised phases. */
  readonly carPhases: number;
  /** The lowest of the other limits (installation, cable, Modbus, OCPP), A. */
  readonly otherLimitA: number;
  /** The phase setting in force or asked for now. */
  readonly current: PhaseCount;
}

/** A switch must gain at least this share of power: rounding differences never cause one. */
const SWITCH_GAIN = 1.05;

/**
 * The phase setting (with 1p/3p switching) that lets the car take the most power within the
 * grid limit: a one-phase car on three energised phases gets 6.0 A × 230 V = 1.4 kW, on one
 * phase 18.2 A = 4.2 kW. A setting whose 6 A floor would exceed the limit counts only when no
 * setting keeps within it. The setting in force stays unless the other gains more than 5 %.
 */
export function gridPhases(input: GridPhaseInput): PhaseCount {
  const option = (phases: PhaseCount) => {
    const currentA = Math.min(gridLimitA(input.limitW, input.voltageV, phases), input.otherLimitA);
    const drawW = currentA * input.voltageV * Math.min(phases, input.carPhases);
    return { phases, drawW, within: drawW <= input.limitW * 1.0001 };
  };
  const current = option(input.current);
  const other = option(input.current === 3 ? 1 : 3);
  if (current.within !== other.within) return current.within ? current.phases : other.phases;
  const better = current.within ? other.drawW > current.drawW * SWITCH_GAIN : other.drawW < current.drawW;
  return better ? other.phases : current.phases;
}

import type { PhaseCount } from '../../hal/phase-relay.js';
import type { Hold } from './session.js';

/**
 * Planned breaks in charging that the energy manager asks for (CONTRACT §4):
 * - a CP disconnect (Modbus 8086, "wake-up"): the PWM stops, and once the contactor is open the
 *   pilot goes to 0 V (state E) for N seconds, then back;
 * - a phase switch (Modbus 8087, OCPP numberPhases): never under load. The PWM stops, the car
 *   stops drawing, the contactor opens, the phase relay switches, the pilot is held in state E
 *   for the pause, then charging resumes.
 */
export type Interruption =
  | { readonly kind: 'cpDisconnect'; readonly stage: 'stopping' | 'disconnected'; readonly seconds: number; readonly sinceMs: number }
  | {
      readonly kind: 'phaseSwitch';
      readonly stage: 'stopping' | 'opening' | 'paused';
      readonly phases: PhaseCount;
      readonly sinceMs: number;
    };

export interface InterruptionInput {
  readonly nowMs: number;
  /** Contactor commanded open and its mirror confirming it. */
  readonly contactorOpen: boolean;
  /** Highest phase current the meter sees, A; null without a fresh reading. */
  readonly drawingA: number | null;
  /** `evse.phaseSwitching.pauseS` in ms. */
  readonly phaseSwitchPauseMs: number;
}

export interface InterruptionStep {
  readonly interruption: Interruption | null;
  readonly hold: Hold | null;
  /** Set on the one step at which the phase relay must switch. */
  readonly switchPhasesTo: PhaseCount | null;
}

/** Below this the car counts as no longer drawing. */
export const NOT_DRAWING_BELOW_A = 0.5;

export function stepInterruption(current: Interruption | null, input: InterruptionInput): InterruptionStep {
  const { nowMs } = input;
  if (current === null) return { interruption: null, hold: null, switchPhasesTo: null };
  if (current.kind === 'cpDisconnect') {
    if (current.stage === 'stopping') {
      if (!input.contactorOpen) return step(current, { kind: 'withdraw', reason: 'CP disconnect: waiting for the contactor to open' });
      return step({ ...current, stage: 'disconnected', sinceMs: nowMs }, cpDisconnectHold);
    }
    if (nowMs - current.sinceMs >= current.seconds * 1000) return { interruption: null, hold: null, switchPhasesTo: null };
    return step(current, cpDisconnectHold);
  }
  switch (current.stage) {
    case 'stopping':
      if (input.contactorOpen) return switchNow(current, nowMs);
      if (input.drawingA !== null && input.drawingA < NOT_DRAWING_BELOW_A) {
        return step({ ...current, stage: 'opening' }, { kind: 'open', reason: 'phase switch: the car stopped drawing' });
      }
      return step(current, { kind: 'withdraw', reason: 'phase switch: waiting for the car to stop drawing' });
    case 'opening':
      if (input.contactorOpen) return switchNow(current, nowMs);
      return step(current, { kind: 'open', reason: 'phase switch: opening the contactor' });
    case 'paused':
      if (nowMs - current.sinceMs >= input.phaseSwitchPauseMs) return { interruption: null, hold: null, switchPhasesTo: null };
      return step(current, phaseSwitchHold);
    default: {
      const never: never = current;
      throw new Error(`unknown stage ${JSON.stringify(never)}`);
    }
  }
}

const cpDisconnectHold: Hold = { kind: 'pilotE', reason: 'CP disconnect' };
const phaseSwitchHold: Hold = { kind: 'pilotE', reason: 'phase switch pause' };

function step(interruption: Interruption, hold: Hold): InterruptionStep {
  return { interruption, hold, switchPhasesTo: null };
}

function switchNow(current: Extract<Interruption, { kind: 'phaseSwitch' }>, nowMs: number): InterruptionStep {
  return { interruption: { ...current, stage: 'paused', sinceMs: nowMs }, hold: phaseSwitchHold, switchPhasesTo: current.phases };
}

/**
 * What is planned: the interruption in progress, a phase count asked for and not yet switched to
 * (it waits for `minIntervalS` after the last switch), and when the relay last switched.
 */
export interface InterruptionPlan {
  readonly current: Interruption | null;
  readonly pendingPhases: PhaseCount | null;
  readonly lastSwitchMs: number;
}

export const idlePlan: InterruptionPlan = { current: null, pendingPhases: null, lastSwitchMs: -Infinity };

/** Modbus 8086: a CP disconnect of `seconds`; null (ignored) while any interruption runs. */
export function planCpDisconnect(plan: InterruptionPlan, seconds: number, nowMs: number): InterruptionPlan | null {
  if (plan.current !== null) return null;
  return { ...plan, current: { kind: 'cpDisconnect', stage: 'stopping', seconds, sinceMs: nowMs } };
}

/** Modbus 8087 / OCPP numberPhases: `phases` is wanted (the latest request wins). */
export function planPhases(plan: InterruptionPlan, phases: PhaseCount): InterruptionPlan {
  return { ...plan, pendingPhases: phases };
}

/** The phase count asked for last, or the relay's when nothing is asked for. */
export function phaseSelection(plan: InterruptionPlan, relayPhases: PhaseCount): PhaseCount {
  const inProgress = plan.current?.kind === 'phaseSwitch' ? plan.current.phases : null;
  return plan.pendingPhases ?? inProgress ?? relayPhases;
}

export interface PlanStep extends InterruptionStep {
  readonly plan: InterruptionPlan;
  /** The phase switch that started at this step, if one did. */
  readonly started: Extract<Interruption, { kind: 'phaseSwitch' }> | null;
  /** The interruption that ended at this step, if one did. */
  readonly ended: Interruption | null;
}

/** Starts a pending phase switch when its time has come, and moves the interruption in progress on. */
export function stepPlan(
  plan: InterruptionPlan,
  input: InterruptionInput & { readonly relayPhases: PhaseCount; readonly minIntervalMs: number },
): PlanStep {
  let { current, pendingPhases } = plan;
  if (pendingPhases === input.relayPhases && current?.kind !== 'phaseSwitch') pendingPhases = null;
  let started: PlanStep['started'] = null;
  if (current === null && pendingPhases !== null && input.nowMs - plan.lastSwitchMs >= input.minIntervalMs) {
    current = started = { kind: 'phaseSwitch', stage: 'stopping', phases: pendingPhases, sinceMs: input.nowMs };
    pendingPhases = null;
  }
  const step = stepInterruption(current, input);
  return {
    ...step,
    plan: { current: step.interruption, pendingPhases, lastSwitchMs: step.switchPhasesTo !== null ? input.nowMs : plan.lastSwitchMs },
    started,
    ended: current !== null && step.interruption === null ? current : null,
  };
}

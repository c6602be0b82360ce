import type { PilotOutput } from '../../hal/control-pilot.js';
import { dutyPctForCurrent, MIN_CURRENT_A } from './duty.js';
import type { CpState } from './pilot-reader.js';

/** IEC 61851-1 timings the session keeps (CONTRACT §4). */
export const TIMING = {
  /** State F after a pilot fault, at least (Table A.5; EVerest's `state_F_after_fault_ms`). */
  pilotErrorHoldMs: 300,
  /** Table A.6 seq. 10.2: the car stays in C after the PWM stopped; open under load after this. */
  openUnderLoadAfterMs: 6000,
  /**
   * After the drive changes mode the debouncer still holds readings of the old drive (F after a
   * state-F hold, E after a CP disconnect); they are not faults of the new drive.
   */
  pilotSettleMs: 50,
} as const;

/** Pilot faults found by the session itself (the rest of CONTRACT §6 comes from supervision). */
export type PilotFault = 'diode' | 'cpShort';

export interface SessionInput {
  readonly nowMs: number;
  /** Debounced CP state; null before the first reading has settled. */
  readonly cp: CpState | null;
  readonly diodeFault: boolean;
  /** The arbiter's offer, A; below 6 A means no PWM. */
  readonly offeredA: number;
  /** `evse.ventilation`: state D may charge. */
  readonly ventilation: boolean;
  /** `evse.minOffS` in ms. */
  readonly minOffMs: number;
  /** Socket variant: the plug is locked while a car is connected. */
  readonly lockRequired: boolean;
  /** The lock's feedback: the plug is held. */
  readonly lockEngaged: boolean;
  /** The mirror contact: the car's supply is live (a welded contactor included). */
  readonly mirrorClosed: boolean;
  /** Why the session must not charge now (null: it may). */
  readonly hold: Hold | null;
  /** UnlockConnector: release the plug as soon as the supply is off, until the car is unplugged. */
  readonly unlockRequested: boolean;
}

/**
 * A hold keeps the session from charging, in three strengths:
 * - `withdraw`: no PWM; the contactor opens by the normal rules (the car leaves C, or 6 s);
 * - `open`: no PWM and the contactor open at once (faults, an unlock request, a phase switch);
 * - `pilotE`: contactor open at once and the pilot at 0 V, state E (CP disconnect, phase-switch pause).
 */
export interface Hold {
  readonly kind: 'withdraw' | 'open' | 'pilotE';
  readonly reason: string;
}

export interface SessionState {
  readonly pilot: PilotOutput;
  /** When the pilot last changed mode. */
  readonly pilotSinceMs: number;
  readonly contactorClosed: boolean;
  readonly lastOpenedAtMs: number;
  /** Set while the contactor is closed but the PWM has been withdrawn (the 6 s rule). */
  readonly withdrawnAtMs: number | null;
  readonly locked: boolean;
  readonly pilotFault: { readonly kind: PilotFault; readonly sinceMs: number } | null;
}

export type SessionAction =
  | { readonly type: 'drivePilot'; readonly output: PilotOutput }
  | { readonly type: 'setContactor'; readonly closed: boolean; readonly reason: string }
  | { readonly type: 'setLock'; readonly locked: boolean };

export function initialSession(nowMs: number): SessionState {
  return {
    pilot: { mode: 'x1' },
    pilotSinceMs: nowMs,
    contactorClosed: false,
    lastOpenedAtMs: -Infinity,
    withdrawnAtMs: null,
    locked: false,
    pilotFault: null,
  };
}

/**
 * Layer 2 of the charging core: the next session state and the actions that take the hardware
 * there. Pure: the runner applies the actions in order.
 */
export function stepSession(state: SessionState, input: SessionInput): { state: SessionState; actions: SessionAction[] } {
  const { nowMs, cp } = input;
  const pilotFault = nextPilotFault(state, input);
  const pilot = desiredPilot(pilotFault, input);
  const chargeState = cp === 'C' || (cp === 'D' && input.ventilation);

  let { contactorClosed, lastOpenedAtMs, withdrawnAtMs } = state;
  let openReason: string | null = null;
  let closeNow = false;
  if (contactorClosed) {
    if (pilotFault) openReason = `pilot fault: ${pilotFault.kind}`;
    else if (input.hold !== null && input.hold.kind !== 'withdraw') openReason = input.hold.reason;
    else if (!chargeState)
      openReason = `car in ${cp ?? 'unknown state'}`; // Table A.6 seq. 2.2, 8.1
    else if (pilot.mode !== 'pwm') {
      withdrawnAtMs ??= nowMs;
      if (nowMs - withdrawnAtMs >= TIMING.openUnderLoadAfterMs) openReason = 'car stayed in C after the PWM stopped'; // seq. 10.2
    } else withdrawnAtMs = null;
  } else {
    // Close only once the car has answered our PWM with C (seq. 4), and never before minOffS.
    closeNow =
      !pilotFault &&
      input.hold === null &&
      chargeState &&
      pilot.mode === 'pwm' &&
      state.pilot.mode === 'pwm' &&
      nowMs - lastOpenedAtMs >= input.minOffMs &&
      (!input.lockRequired || (state.locked && input.lockEngaged));
  }

  const actions: SessionAction[] = [];
  if (!samePilot(pilot, state.pilot)) actions.push({ type: 'drivePilot', output: pilot });
  if (openReason !== null) {
    actions.push({ type: 'setContactor', closed: false, reason: openReason });
    contactorClosed = false;
    lastOpenedAtMs = nowMs;
    withdrawnAtMs = null;
  } else if (closeNow) {
    actions.push({ type: 'setContactor', closed: true, reason: `car in ${cp}` });
    contactorClosed = true;
  }
  const locked = nextLock(state.locked, contactorClosed, input);
  if (locked !== state.locked) actions.push({ type: 'setLock', locked });

  return {
    state: {
      pilot,
      pilotSinceMs: pilot.mode === state.pilot.mode ? state.pilotSinceMs : nowMs,
      contactorClosed,
      lastOpenedAtMs,
      withdrawnAtMs,
      locked,
      pilotFault,
    },
    actions,
  };
}

function nextPilotFault(state: SessionState, input: SessionInput): SessionState['pilotFault'] {
  const settled = input.nowMs - state.pilotSinceMs >= TIMING.pilotSettleMs;
  const current = state.pilotFault;
  if (current === null) {
    const drivesLine = state.pilot.mode === 'x1' || state.pilot.mode === 'pwm';
    if (!drivesLine || !settled) return null;
    if (input.cp === 'E' || input.cp === 'F') return { kind: 'cpShort', sinceMs: input.nowMs };
    if (input.diodeFault) return { kind: 'diode', sinceMs: input.nowMs };
    return null;
  }
  // CONTRACT §6: a pilot fault clears when the car is unplugged, seen on a settled +12 V line.
  const unplugged = state.pilot.mode === 'x1' && settled && input.cp === 'A';
  return unplugged ? null : current;
}

function desiredPilot(pilotFault: SessionState['pilotFault'], input: SessionInput): PilotOutput {
  if (pilotFault) {
    // State F long enough for the car to notice, then +12 V so an unplug can be seen.
    return input.nowMs - pilotFault.sinceMs < TIMING.pilotErrorHoldMs ? { mode: 'F' } : { mode: 'x1' };
  }
  if (input.hold?.kind === 'pilotE') return { mode: 'E' };
  const carMayCharge = input.cp === 'B' || input.cp === 'C' || (input.cp === 'D' && input.ventilation);
  if (carMayCharge && input.hold === null && input.offeredA >= MIN_CURRENT_A) {
    return { mode: 'pwm', dutyPct: dutyPctForCurrent(input.offeredA) };
  }
  return { mode: 'x1' };
}

function nextLock(locked: boolean, contactorClosed: boolean, input: SessionInput): boolean {
  if (!input.lockRequired) return false;
  if (contactorClosed || input.mirrorClosed) return true; // never unlock while energised
  if (input.unlockRequested || input.cp === 'A') return false;
  if (input.cp === 'B' || input.cp === 'C' || input.cp === 'D') return true;
  return locked;
}

function samePilot(a: PilotOutput, b: PilotOutput): boolean {
  if (a.mode !== b.mode) return false;
  return a.mode !== 'pwm' || b.mode !== 'pwm' || a.dutyPct === b.dutyPct;
}

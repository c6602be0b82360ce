import type { MeterReading } from '../../hal/meter.js';
import type { CpState } from '../charging/pilot-reader.js';
import type { PilotFault } from '../charging/session.js';
import { blocksCharging, type Fault, type FaultKind, type LatchRule } from './faults.js';

/** Detection times and thresholds of CONTRACT §6. */
export const SUPERVISION = {
  /** A released contactor's mirror opens within tens of ms; closed this long after release is a weld. */
  weldDetectMs: 200,
  /** The mirror must confirm a close within this. */
  stuckOpenDetectMs: 1000,
  /** The car may draw up to offered × 1.1 + 0.5 A; above that for this long is over-current. */
  overCurrentDetectMs: 7000,
  overCurrentFactor: 1.1,
  overCurrentMarginA: 0.5,
  /** No meter reading for this long: the meter is lost. */
  meterLostMs: 10_000,
  /** The lock actuator must reach its position within this. */
  lockDetectMs: 1000,
} as const;

/** The RCD self-test that must pass before the first close after an RCD trip. */
export type RcdSelfTest = 'notNeeded' | 'required' | 'running';

export interface SupervisionInput {
  readonly nowMs: number;
  readonly cp: CpState | null;
  /** The session's own pilot fault (diode, CP short), mirrored into the fault list. */
  readonly pilotFault: PilotFault | null;
  readonly contactorCommanded: boolean;
  readonly mirrorClosed: boolean;
  readonly rcdTripped: boolean;
  /** Set on the step after a self-test finished: did it pass? */
  readonly rcdSelfTestResult: boolean | null;
  /** Current coded on the pilot now, A. */
  readonly offeredA: number;
  readonly meter: MeterReading | null;
  readonly lockRequired: boolean;
  readonly lockCommanded: boolean;
  readonly lockFeedback: boolean;
  readonly minOffMs: number;
}

export interface SupervisionState {
  /** The faults in force now, oldest first. */
  readonly faults: readonly Fault[];
  readonly startedAtMs: number;
  readonly contactorCommanded: boolean;
  readonly contactorChangedAtMs: number;
  readonly lockCommanded: boolean;
  readonly lockChangedAtMs: number;
  readonly overCurrentSinceMs: number | null;
  /** Close attempts that the mirror never confirmed, since the last confirmed close. */
  readonly stuckOpenTrips: number;
  readonly rcdSelfTest: RcdSelfTest;
}

export type SupervisionAction =
  | { readonly type: 'raised'; readonly fault: Fault }
  | { readonly type: 'cleared'; readonly fault: Fault }
  | { readonly type: 'runRcdSelfTest' };

export interface Verdict {
  readonly state: SupervisionState;
  readonly actions: SupervisionAction[];
  /** No PWM, contactor open at once, no close: a fault stops charging or a self-test is due. */
  readonly blocking: boolean;
}

/** The supervision at start; `persisted` are the installer-latched faults kept in dataDir. */
export function initialSupervision(nowMs: number, persisted: readonly Fault[] = []): SupervisionState {
  return {
    faults: persisted,
    startedAtMs: nowMs,
    contactorCommanded: false,
    contactorChangedAtMs: nowMs,
    lockCommanded: false,
    lockChangedAtMs: nowMs,
    overCurrentSinceMs: null,
    stuckOpenTrips: 0,
    rcdSelfTest: 'notNeeded',
  };
}

/**
 * The safety supervision of CONTRACT §6 as a pure step: measurements in, the faults in force and
 * what changed out. The runner obeys `blocking` and persists installer latches.
 */
export function supervise(previous: SupervisionState, input: SupervisionInput): Verdict {
  const { nowMs } = input;
  const state = trackCommands(previous, input);
  let faults = [...state.faults];
  const actions: SupervisionAction[] = [];
  const has = (kind: FaultKind): boolean => faults.some((f) => f.kind === kind);
  const raise = (kind: FaultKind, cause: string, latch: LatchRule): void => {
    if (has(kind)) return;
    const fault: Fault = { kind, sinceMs: nowMs, cause, latch };
    faults.push(fault);
    actions.push({ type: 'raised', fault });
  };
  const clear = (keep: (f: Fault) => boolean): void => {
    for (const fault of faults.filter((f) => !keep(f))) actions.push({ type: 'cleared', fault });
    faults = faults.filter(keep);
  };

  // Faults end first, so that a cause still present raises its fault again in the same step.
  clear((f) => {
    if (f.latch === 'unplug') return input.cp !== 'A' || causePresent(f.kind, state, input);
    if (f.latch === 'retry') return nowMs - f.sinceMs < input.minOffMs;
    return true;
  });
  if (input.pilotFault === null) clear((f) => f.kind !== 'diode' && f.kind !== 'cpShort');
  else
    raise(
      input.pilotFault,
      input.pilotFault === 'diode' ? 'CP low level not at -12 V during PWM' : 'CP at 0 V or -12 V while driven',
      'unplug',
    );

  // Welded: the mirror stays closed after the coil was released.
  if (!state.contactorCommanded && input.mirrorClosed && nowMs - state.contactorChangedAtMs >= SUPERVISION.weldDetectMs) {
    raise('contactorWelded', 'mirror contact closed while the contactor is commanded open', 'installer');
  }

  // Stuck open: the mirror never confirmed a close; retry once, then latch.
  let stuckOpenTrips = state.stuckOpenTrips;
  if (state.contactorCommanded && input.mirrorClosed) stuckOpenTrips = 0;
  if (
    state.contactorCommanded &&
    !input.mirrorClosed &&
    nowMs - state.contactorChangedAtMs >= SUPERVISION.stuckOpenDetectMs &&
    !has('contactorStuckOpen')
  ) {
    stuckOpenTrips += 1;
    raise(
      'contactorStuckOpen',
      `mirror contact open ${SUPERVISION.stuckOpenDetectMs} ms after the close (${stuckOpenTrips}. time)`,
      stuckOpenTrips >= 2 ? 'restart' : 'retry',
    );
  }

  // RCD: open at once; after the unplug, a self-test before the next close.
  let rcdSelfTest = state.rcdSelfTest;
  if (input.rcdTripped) raise('rcd', 'residual current detector tripped', 'unplug');
  else if (rcdSelfTest === 'running' && input.rcdSelfTestResult !== null) {
    rcdSelfTest = 'notNeeded';
    if (!input.rcdSelfTestResult) raise('rcd', 'RCD self-test failed', 'installer');
  }
  if (actions.some((a) => a.type === 'raised' && a.fault.kind === 'rcd')) rcdSelfTest = 'required';
  if (rcdSelfTest === 'required' && !has('rcd')) {
    rcdSelfTest = 'running';
    actions.push({ type: 'runRcdSelfTest' });
  }

  // Over-current: above offered + 10 % + 0.5 A on any phase for 7 s; stop, retry after minOffS.
  let overCurrentSinceMs: number | null = null;
  const drawA = input.meter && nowMs - input.meter.atMs < SUPERVISION.meterLostMs ? Math.max(...input.meter.currentsA) : 0;
  if (state.contactorCommanded && drawA > input.offeredA * SUPERVISION.overCurrentFactor + SUPERVISION.overCurrentMarginA) {
    overCurrentSinceMs = state.overCurrentSinceMs ?? nowMs;
    if (nowMs - overCurrentSinceMs >= SUPERVISION.overCurrentDetectMs) {
      raise('overCurrent', `car drew ${drawA.toFixed(1)} A with ${input.offeredA} A offered`, 'retry');
      overCurrentSinceMs = null;
    }
  }

  // Meter lost: reported, charging goes on; it ends when readings come back.
  const lastReadingMs = input.meter?.atMs ?? state.startedAtMs;
  if (nowMs - lastReadingMs >= SUPERVISION.meterLostMs) raise('meterLost', `no meter reading for ${nowMs - lastReadingMs} ms`, 'recovers');
  else clear((f) => f.kind !== 'meterLost');

  // Lock: the feedback must follow the command.
  if (input.lockRequired && state.lockCommanded !== input.lockFeedback && nowMs - state.lockChangedAtMs >= SUPERVISION.lockDetectMs) {
    raise('lockFailure', state.lockCommanded ? 'lock did not engage' : 'lock did not release', 'unplug');
  }

  const blocking = faults.some((f) => blocksCharging(f.kind)) || rcdSelfTest !== 'notNeeded';
  return { state: { ...state, faults, overCurrentSinceMs, stuckOpenTrips, rcdSelfTest }, actions, blocking };
}

/** Whether what raised an unplug-latched fault is still there (then the unplug does not end it). */
function causePresent(kind: FaultKind, state: SupervisionState, input: SupervisionInput): boolean {
  switch (kind) {
    case 'diode':
    case 'cpShort':
      return input.pilotFault === kind; // the session decides when a pilot fault ends
    case 'rcd':
      return input.rcdTripped;
    case 'lockFailure':
      return state.lockCommanded !== input.lockFeedback;
    default:
      return false;
  }
}

/** Notes when the contactor and the lock were last commanded, for the detection windows. */
function trackCommands(state: SupervisionState, input: SupervisionInput): SupervisionState {
  let next = state;
  if (input.contactorCommanded !== state.contactorCommanded) {
    next = { ...next, contactorCommanded: input.contactorCommanded, contactorChangedAtMs: input.nowMs };
  }
  if (input.lockCommanded !== state.lockCommanded) {
    next = { ...next, lockCommanded: input.lockCommanded, lockChangedAtMs: input.nowMs };
  }
  return next;
}

/** Removes the faults an installer may clear (all but those that end by themselves). */
export function clearByInstaller(state: SupervisionState): SupervisionState {
  return { ...state, faults: state.faults.filter((f) => f.latch !== 'installer' && f.latch !== 'restart'), stuckOpenTrips: 0 };
}

import { every, waitFor, type Clock, type TimerHandle } from '../../hal/clock.js';
import type { PilotOutput } from '../../hal/control-pilot.js';
import type { Hal } from '../../hal/hal.js';
import type { Identification, MeterReading, SigningMeter, SigningMeterIdentity } from '../../hal/meter.js';
import type { PhaseCount } from '../../hal/phase-relay.js';
import type { Logger } from '../log.js';
import { FaultLog } from '../safety/fault-log.js';
import type { Fault } from '../safety/faults.js';
import {
  clearByInstaller,
  initialSupervision,
  SUPERVISION,
  supervise,
  type SupervisionAction,
  type SupervisionState,
} from '../safety/supervisor.js';
import { arbitrate, type ChargingLimits, type Offer } from './arbiter.js';
import { carPhasesFrom, gridLimitA, gridPhases, gridSignalActive, type GridSettings } from './grid.js';
import {
  idlePlan,
  phaseSelection,
  planCpDisconnect,
  planPhases,
  stepPlan,
  type Interruption,
  type InterruptionPlan,
} from './interruption.js';
import { initialPilotReading, pendingUntilMs, readPilot, type CpState, type PilotReading } from './pilot-reader.js';
import { cableRatingA } from './proximity.js';
import type { ChargingPort } from './port.js';
import { initialSession, stepSession, type Hold, type PilotFault, type SessionAction, type SessionState } from './session.js';

export interface EvseSettings {
  /** `evse.maxCurrentA` */
  readonly maxCurrentA: number;
  readonly phases: PhaseCount;
  readonly cable: 'socket' | 'tethered';
  readonly ventilation: boolean;
  readonly minOffS: number;
  readonly phaseSwitching: { readonly enabled: boolean; readonly minIntervalS: number; readonly pauseS: number };
}

export interface ControllerOptions {
  readonly hal: Hal;
  readonly clock: Clock;
  readonly log: Logger;
  readonly evse: EvseSettings;
  /** The energy manager's limit until Modbus says otherwise (8081's value at boot). */
  readonly modbusLimitA: number;
  /** Whether OCPP takes part in the decision (CONTRACT §4); it starts by not allowing charging. */
  readonly ocppConfigured: boolean;
  /** Where faults are kept; the installer latches in it are in force from the start. */
  readonly faultLog?: FaultLog;
  /** Control loop period: CP sampling, timing rules, watchdog feed. */
  readonly tickMs?: number;
  /** The grid operator's control input (`grid`, §14a EnWG); null or absent: none wired. */
  readonly grid?: GridSettings | null;
}

/** The grid operator's signal (§14a EnWG) as the charging core applies it. */
export interface GridStatus {
  readonly active: boolean;
  /** Clock time the signal became active; null while it is not. */
  readonly sinceMs: number | null;
  /** `grid.limitW` */
  readonly limitW: number;
  /** The limit in force, A, with the phases energised now; null while the signal is not active. */
  readonly limitA: number | null;
}

export interface ChargingStatus {
  readonly cp: CpState | null;
  readonly pilot: PilotOutput;
  /** Current coded on the pilot now, A (0 = no PWM). */
  readonly offeredA: number;
  readonly offer: Offer;
  readonly cableA: number | null;
  readonly contactorClosed: boolean;
  readonly locked: boolean;
  readonly pilotFault: PilotFault | null;
  /** The faults in force (CONTRACT §6), oldest first. */
  readonly faults: readonly Fault[];
  /** A CP disconnect or phase switch in progress. */
  readonly interruption: Interruption | null;
  /** Phases energised for the car now: `evse.phases`, or 1 after a switch to one phase. */
  readonly phases: PhaseCount;
  readonly meter: MeterReading | null;
  /** Null when no grid operator input is configured. */
  readonly grid: GridStatus | null;
}

export type UnlockResult = 'Unlocked' | 'UnlockFailed' | 'NotSupported';

/** Longest a clean stop waits for the car to stop drawing before it opens under load (Table A.6 seq. 10.1). */
const STOP_GRACE_MS = 3000;

/**
 * The runner of the charging core: samples the pilot, asks the pure supervision and session
 * what to do, and is the only code that drives the pilot, the contactor and the lock. Limit
 * changes are applied at once, not at the next tick.
 */
export class ChargingController implements ChargingPort {
  readonly #hal: Hal;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #evse: EvseSettings;
  readonly #tickMs: number;
  readonly #faultLog: FaultLog;
  #limits: ChargingLimits;
  #reading: PilotReading = initialPilotReading;
  #session: SessionState;
  #supervision: SupervisionState;
  #offer: Offer;
  #rcdSelfTestResult: boolean | null = null;
  #unlockRequested = false;
  #plan: InterruptionPlan = idlePlan;
  #interruptionHold: Hold | null = null;
  #stopping = false;
  #stopLoop: (() => void) | null = null;
  /** A pass is queued for the end of the current call (the pilot changed). */
  #passQueued = false;
  /** The pass at the end of a pilot debounce: its timer and time. */
  #debouncePass: { readonly timer: TimerHandle; readonly atMs: number } | null = null;
  /** Each listener with the status it heard last (as its key). */
  #listeners = new Map<(status: ChargingStatus) => void, string>();
  #notifiedKey = '';
  /** A pass runs: a pass asked for meanwhile (by a listener) runs after it, so passes never nest. */
  #updating = false;
  #updateAgain = false;
  #lastPassMs: number | null = null;
  readonly #grid: GridSettings | null;
  #gridSinceMs: number | null = null;
  /** Phases the plugged-in car draws on, as seen on three energised phases (null: not known yet). */
  #carPhases: number | null = null;
  /** The phase setting the grid limit chose, and the one asked for before it (restored at the end). */
  #gridChosePhases: { readonly chosen: PhaseCount; readonly before: PhaseCount } | null = null;

  constructor(options: ControllerOptions) {
    this.#hal = options.hal;
    this.#clock = options.clock;
    this.#log = options.log.child({ module: 'charging' });
    this.#evse = options.evse;
    this.#tickMs = options.tickMs ?? 5;
    this.#faultLog = options.faultLog ?? FaultLog.inMemory(options.log);
    this.#grid = options.grid ?? null;
    if (this.#grid !== null && this.#hal.gridContact === null)
      this.#log.error('grid is configured but the board has no grid operator input: the signal cannot be read');
    this.#limits = {
      hardwareA: options.evse.maxCurrentA,
      cableA: null,
      modbus: { limitA: options.modbusLimitA, enabled: true },
      ocpp: options.ocppConfigured ? { limitA: null, allowed: false } : null,
      faultLatched: this.#faultLog.latched.length > 0,
    };
    this.#offer = arbitrate(this.#limits);
    this.#session = initialSession(this.#clock.now());
    this.#supervision = initialSupervision(this.#clock.now(), this.#faultLog.latched);
    this.#hal.pilot.drive(this.#session.pilot);
  }

  /**
   * Starts the control loop: a pass every `tickMs`, and one more at once when the pilot driver
   * tells of a change and when a pilot debounce ends, so that the car leaving C opens the contactor
   * a debounce after the change, not up to a tick or two later (README "Process structure").
   */
  start(): void {
    if (this.#stopLoop !== null) return;
    this.#stopLoop = every(this.#clock, this.#tickMs, () => this.tick());
    this.#hal.pilot.onChange = () => this.#passSoon();
  }

  /**
   * A pass as soon as the current call is done: not inside it, since the pilot's own drive (in a
   * pass) changes the line too. Several changes in one call make one pass.
   */
  #passSoon(): void {
    if (this.#passQueued || this.#stopLoop === null) return;
    this.#passQueued = true;
    queueMicrotask(() => {
      this.#passQueued = false;
      if (this.#stopLoop !== null) this.tick();
    });
  }

  /** Arms the pass at the end of the pending pilot debounce (none pending: none armed). */
  #armDebouncePass(): void {
    const atMs = pendingUntilMs(this.#reading);
    if (atMs === (this.#debouncePass?.atMs ?? null)) return;
    this.#disarmDebouncePass();
    if (atMs === null || this.#stopLoop === null) return;
    const timer = this.#clock.setTimeout(
      () => {
        this.#debouncePass = null;
        if (this.#stopLoop !== null) this.tick();
      },
      Math.max(0, atMs - this.#clock.now()),
    );
    this.#debouncePass = { timer, atMs };
  }

  #disarmDebouncePass(): void {
    if (this.#debouncePass !== null) this.#clock.clearTimeout(this.#debouncePass.timer);
    this.#debouncePass = null;
  }

  /**
   * A clean stop: the PWM is withdrawn, the car gets up to 3 s to stop drawing and leave C, then
   * the contactor opens (under load if it must) and the pilot is switched off.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#update();
    await this.#waitFor(() => !this.#session.contactorClosed, STOP_GRACE_MS);
    this.#stopLoop?.();
    this.#stopLoop = null;
    this.#hal.pilot.onChange = null;
    this.#disarmDebouncePass();
    if (this.#hal.contactor.commandedClosed) this.#log.warn('contactor opened under load at stop');
    this.#hal.contactor.setClosed(false);
    this.#hal.pilot.drive({ mode: 'off' });
    await this.#faultLog.flush();
  }

  /** The energy manager's inputs (Modbus 8093/8094 or the watchdog failsafe). */
  setModbusLimit(limitA: number, enabled: boolean): void {
    this.#setLimits({ ...this.#limits, modbus: { limitA, enabled } });
  }

  /** The limit of the OCPP charging profiles in force, A (null = none). */
  setOcppLimit(limitA: number | null): void {
    this.#setLimits({ ...this.#limits, ocpp: { ...this.#ocppLimits(), limitA } });
  }

  /** Whether OCPP permits charging: a transaction runs and the connector is available. */
  setOcppAllowed(allowed: boolean): void {
    this.#setLimits({ ...this.#limits, ocpp: { ...this.#ocppLimits(), allowed } });
  }

  /** The owner's pause from the web interface (volatile: a restart resumes). */
  setUserPaused(paused: boolean): void {
    this.#setLimits({ ...this.#limits, userPaused: paused });
  }

  /** A transaction is authorised but its start is not on disk (dataDir cannot be written): no PWM until it is. */
  setStoragePaused(paused: boolean): void {
    if (paused === (this.#limits.storagePaused === true)) return;
    this.#log.info(paused ? 'charging held: the transaction start is not on disk' : 'transaction start on disk: charging may go on');
    this.#setLimits({ ...this.#limits, storagePaused: paused });
  }

  /** OCPP was switched on or off at run time: on, it starts by not allowing charging (no transaction yet). */
  setOcppConfigured(configured: boolean): void {
    if (configured === (this.#limits.ocpp !== null)) return;
    this.#setLimits({ ...this.#limits, ocpp: configured ? { limitA: null, allowed: false } : null });
  }

  /**
   * A new protocol side took over (its worker restarted): its inputs start as at boot, the OCPP
   * permission withdrawn and no profile limit, no user pause. The Modbus limit stays until the
   * new side's Modbus model sets 8093's boot value.
   */
  resetProtocolInputs(): void {
    this.#setLimits({
      ...this.#limits,
      ocpp: this.#limits.ocpp === null ? null : { limitA: null, allowed: false },
      userPaused: false,
      storagePaused: false,
    });
  }

  #ocppLimits(): NonNullable<ChargingLimits['ocpp']> {
    if (this.#limits.ocpp === null) throw new Error('OCPP is not configured');
    return this.#limits.ocpp;
  }

  /**
   * OCPP UnlockConnector: charging stops, the contactor opens, the plug is released and stays
   * released until the car is unplugged. Resolves once the lock feedback answers.
   */
  async unlockConnector(): Promise<UnlockResult> {
    if (this.#evse.cable !== 'socket') return 'NotSupported';
    this.#unlockRequested = true;
    this.#update();
    const released = await this.#waitFor(() => !this.#hal.lock.feedbackLocked(), STOP_GRACE_MS + SUPERVISION.lockDetectMs);
    return released ? 'Unlocked' : 'UnlockFailed';
  }

  /** Checks `condition` every control tick on the clock; true once it holds, false after `timeoutMs`. */
  #waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return waitFor(this.#clock, condition, timeoutMs, this.#tickMs);
  }

  /**
   * Modbus 8086: a CP disconnect of `seconds`. Ignored (false) while one runs, or a phase switch;
   * with the contactor closed the PWM stops first and the disconnect starts once it has opened.
   */
  requestCpDisconnect(seconds: number): boolean {
    const plan = planCpDisconnect(this.#plan, seconds, this.#clock.now());
    if (plan === null) return false;
    this.#plan = plan;
    this.#log.info('CP disconnect requested', { seconds });
    this.#update();
    return true;
  }

  /**
   * Modbus 8087 / OCPP numberPhases: switch to `phases` when switching is enabled (false when it
   * is not). The switch waits for `minIntervalS` after the last one and never happens under load.
   */
  requestPhases(phases: PhaseCount): boolean {
    if (!this.phaseSwitchingEnabled) return false;
    this.#plan = planPhases(this.#plan, phases);
    this.#update();
    return true;
  }

  /** 1p/3p switching is configured and three phases are wired (Modbus 8113 bit 8). */
  get phaseSwitchingEnabled(): boolean {
    return this.#evse.phaseSwitching.enabled && this.#evse.phases === 3;
  }

  /** The phase count asked for last, or the relay's when nothing is pending. */
  phaseSelection(): PhaseCount {
    return phaseSelection(this.#plan, this.#hal.phaseRelay.phases);
  }

  /** An installer clears the faults that only an installer (or a restart) may end. */
  async clearFaults(): Promise<void> {
    for (const fault of this.#supervision.faults) {
      if (fault.latch === 'installer' || fault.latch === 'restart') this.#faultLog.cleared(fault, this.#clock.now());
    }
    this.#supervision = clearByInstaller(this.#supervision);
    this.#log.info('faults cleared by an installer');
    this.#update();
    await this.#faultLog.flush();
  }

  /** Inputs apply at once in-process: nothing to wait for. */
  async settled(): Promise<void> {}

  meterIdentity(): Promise<SigningMeterIdentity> {
    return this.#signingMeter().identity();
  }

  beginMeterTransaction(identification: Identification): Promise<string> {
    return this.#signingMeter().beginTransaction(identification);
  }

  endMeterTransaction(): Promise<string | null> {
    return this.#signingMeter().endTransaction();
  }

  #signingMeter(): SigningMeter {
    const signing = this.#hal.meter.signing;
    if (signing === undefined) throw new Error('the meter does not sign readings');
    return signing;
  }

  status(): ChargingStatus {
    const pilot = this.#session.pilot;
    return {
      cp: this.#reading.state,
      pilot,
      offeredA: pilot.mode === 'pwm' ? this.#offer.offeredA : 0,
      offer: this.#offer,
      cableA: this.#limits.cableA,
      contactorClosed: this.#session.contactorClosed,
      locked: this.#session.locked,
      pilotFault: this.#session.pilotFault?.kind ?? null,
      faults: this.#supervision.faults,
      interruption: this.#plan.current,
      phases: this.#phasesEnergised(),
      meter: this.#hal.meter.latest(),
      grid: this.#grid && {
        active: this.#gridSinceMs !== null,
        sinceMs: this.#gridSinceMs,
        limitW: this.#grid.limitW,
        limitA: this.#limits.gridA ?? null,
      },
    };
  }

  #phasesEnergised(): PhaseCount {
    return this.#hal.phaseRelay.phases === 1 ? 1 : this.#evse.phases;
  }

  /** The last 50 faults with time and cause. */
  faultHistory(): FaultLog['history'] {
    return this.#faultLog.history;
  }

  /** Calls `listener` after every change of state, outputs, offer or faults. Returns the unsubscribe function. */
  onChange(listener: (status: ChargingStatus) => void): () => void {
    this.#listeners.set(listener, this.#notifiedKey);
    return () => this.#listeners.delete(listener);
  }

  /**
   * One pass of the control loop; public so tests and benchmarks can step it. The watchdog is
   * fed only after a pass that completed: a loop that throws or stalls starves it.
   */
  tick(): void {
    try {
      const previous = this.#reading.state;
      this.#reading = readPilot(this.#reading, this.#hal.pilot.sample(), this.#hal.pilot.output, this.#clock.now());
      if (this.#reading.state !== previous) this.#log.info('pilot state', { from: previous, to: this.#reading.state });
      this.#armDebouncePass();
      if (this.#reading.state === 'A') this.#unlockRequested = false;
      const cableA = this.#evse.cable === 'socket' ? cableRatingA(this.#hal.proximity.resistanceOhm(), this.#evse.phases) : null;
      if (cableA !== this.#limits.cableA) this.#limits = { ...this.#limits, cableA };
      this.#readGridContact();
      this.#update();
    } catch (err) {
      this.#failSafe(err);
      return;
    }
    this.#hal.watchdog.feed();
    this.#lastPassMs = this.#clock.now();
  }

  /** Clock time of the last pass of the control loop that completed (null: none yet); the health check reads it. */
  get lastPassMs(): number | null {
    return this.#lastPassMs;
  }

  #setLimits(limits: ChargingLimits): void {
    this.#limits = limits;
    this.#update();
  }

  /**
   * Runs a pass of supervision and session. A listener that changes an input while it is told
   * (OCPP's permission at a plug-in) does not re-enter: its pass runs once the current one is done,
   * and the listeners then hear the newer status, never an older one after it.
   */
  #update(): void {
    if (this.#updating) {
      this.#updateAgain = true;
      return;
    }
    this.#updating = true;
    try {
      do {
        this.#updateAgain = false;
        this.#pass();
      } while (this.#updateAgain);
    } finally {
      this.#updating = false;
    }
  }

  #pass(): void {
    const nowMs = this.#clock.now();
    const hal = this.#hal;
    // The inputs of this pass, read once: only the session's actions below change the outputs.
    const mirrorClosed = hal.contactor.mirrorClosed();
    const lockFeedback = hal.lock.feedbackLocked();
    const meter = hal.meter.latest();
    const verdict = supervise(this.#supervision, {
      nowMs,
      cp: this.#reading.state,
      pilotFault: this.#session.pilotFault?.kind ?? null,
      contactorCommanded: hal.contactor.commandedClosed,
      mirrorClosed,
      rcdTripped: hal.faults.rcdTripped(),
      rcdSelfTestResult: this.#rcdSelfTestResult,
      offeredA: this.#session.pilot.mode === 'pwm' ? this.#offer.offeredA : 0,
      meter,
      lockRequired: this.#evse.cable === 'socket',
      lockCommanded: hal.lock.commandedLocked,
      lockFeedback,
      minOffMs: this.#evse.minOffS * 1000,
    });
    this.#supervision = verdict.state;
    this.#rcdSelfTestResult = null;
    for (const action of verdict.actions) this.#applySupervision(action);

    this.#steerGridPhases(nowMs, meter);
    this.#stepInterruption(nowMs, mirrorClosed, meter);
    const gridA =
      this.#grid !== null && this.#gridSinceMs !== null
        ? gridLimitA(this.#grid.limitW, this.#grid.voltageV, this.#phasesEnergised())
        : null;
    this.#limits = { ...this.#limits, faultLatched: verdict.blocking, gridA };
    this.#offer = arbitrate(this.#limits);
    const { state, actions } = stepSession(this.#session, {
      nowMs,
      cp: this.#reading.state,
      diodeFault: this.#reading.diodeFault,
      offeredA: this.#stopping ? 0 : this.#offer.offeredA,
      ventilation: this.#evse.ventilation,
      minOffMs: this.#evse.minOffS * 1000,
      lockRequired: this.#evse.cable === 'socket',
      lockEngaged: lockFeedback,
      mirrorClosed,
      hold: this.#hold(verdict.blocking),
      unlockRequested: this.#unlockRequested,
    });
    this.#session = state;
    for (const action of actions) this.#applySession(action);
    this.#notify();
  }

  /**
   * The grid operator's contact, read at every pass of the control loop: the limit is in force
   * from this pass on, far within the 1 s of CONTRACT §4, and so is its release.
   */
  #readGridContact(): void {
    const contact = this.#hal.gridContact;
    if (this.#grid === null || contact === null) return;
    const active = gridSignalActive(contact.closed(), this.#grid.activeWhen);
    if (active === (this.#gridSinceMs !== null)) return;
    this.#gridSinceMs = active ? this.#clock.now() : null;
    this.#log.info(active ? 'grid operator limit active' : 'grid operator limit released', { limitW: this.#grid.limitW });
  }

  /**
   * With 1p/3p switching: under the grid limit, the phase setting that lets the car take the
   * most power (a one-phase car gets 18.2 A on one phase instead of 6.0 A on three); when the
   * signal ends, the setting asked for before comes back. Each switch follows the rules of every
   * phase switch (never under load, at most one per minIntervalS).
   */
  #steerGridPhases(nowMs: number, meter: MeterReading | null): void {
    if (this.#grid === null || !this.phaseSwitchingEnabled) return;
    if (this.#reading.state === 'A') this.#carPhases = null;
    else if (
      this.#hal.phaseRelay.phases === 3 &&
      this.#session.contactorClosed &&
      meter !== null &&
      nowMs - meter.atMs < SUPERVISION.meterLostMs
    ) {
      this.#carPhases = carPhasesFrom(meter.currentsA) ?? this.#carPhases;
    }
    const selection = this.phaseSelection();
    const chose = this.#gridChosePhases;
    if (this.#gridSinceMs === null) {
      if (chose !== null && selection === chose.chosen && chose.before !== chose.chosen)
        this.#askPhases(chose.before, 'grid operator limit released');
      this.#gridChosePhases = null;
      return;
    }
    if (this.#carPhases === null) return;
    const otherLimitA = arbitrate({ ...this.#limits, gridA: null }).limitA;
    const wanted = gridPhases({
      limitW: this.#grid.limitW,
      voltageV: this.#grid.voltageV,
      carPhases: this.#carPhases,
      otherLimitA,
      current: selection,
    });
    if (wanted === selection) return;
    this.#gridChosePhases = { chosen: wanted, before: chose?.before ?? selection };
    this.#askPhases(wanted, 'most power within the grid operator limit');
  }

  #askPhases(phases: PhaseCount, reason: string): void {
    this.#plan = planPhases(this.#plan, phases);
    this.#log.info('phase switch asked for', { phases, reason });
  }

  /** Moves the planned CP disconnect or phase switch on; the relay switches here, never under load. */
  #stepInterruption(nowMs: number, mirrorClosed: boolean, meter: MeterReading | null): void {
    const fresh = meter !== null && nowMs - meter.atMs < SUPERVISION.meterLostMs;
    const step = stepPlan(this.#plan, {
      nowMs,
      contactorOpen: !this.#hal.contactor.commandedClosed && !mirrorClosed,
      drawingA: fresh ? Math.max(...meter.currentsA) : null,
      phaseSwitchPauseMs: this.#evse.phaseSwitching.pauseS * 1000,
      relayPhases: this.#hal.phaseRelay.phases,
      minIntervalMs: this.#evse.phaseSwitching.minIntervalS * 1000,
    });
    if (step.started) this.#log.info('phase switch started', { phases: step.started.phases });
    if (step.switchPhasesTo !== null) {
      this.#hal.phaseRelay.setPhases(step.switchPhasesTo);
      this.#log.info('phase relay switched', { phases: step.switchPhasesTo });
    }
    if (step.ended) this.#log.info('charging interruption over', { kind: step.ended.kind });
    this.#plan = step.plan;
    this.#interruptionHold = step.hold;
  }

  /** The strongest reason not to charge now. */
  #hold(faultBlocking: boolean): Hold | null {
    if (faultBlocking) return { kind: 'open', reason: 'fault' };
    if (this.#unlockRequested) return { kind: 'open', reason: 'unlock requested' };
    return this.#interruptionHold;
  }

  #applySession(action: SessionAction): void {
    switch (action.type) {
      case 'drivePilot':
        this.#hal.pilot.drive(action.output);
        this.#log.debug('pilot', { ...action.output });
        return;
      case 'setContactor':
        this.#hal.contactor.setClosed(action.closed);
        this.#log.info(action.closed ? 'contactor closed' : 'contactor opened', { reason: action.reason });
        return;
      case 'setLock':
        this.#hal.lock.setLocked(action.locked);
        return;
      default: {
        const never: never = action;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  }

  #applySupervision(action: SupervisionAction): void {
    switch (action.type) {
      case 'raised':
        this.#faultLog.raised(action.fault);
        this.#log.warn('fault', { kind: action.fault.kind, cause: action.fault.cause, latch: action.fault.latch });
        return;
      case 'cleared':
        this.#faultLog.cleared(action.fault, this.#clock.now());
        this.#log.info('fault cleared', { kind: action.fault.kind });
        return;
      case 'runRcdSelfTest':
        this.#hal.faults.selfTestRcd().then(
          (passed) => {
            this.#rcdSelfTestResult = passed;
            this.#log.info('RCD self-test', { passed });
          },
          (err: unknown) => {
            this.#rcdSelfTestResult = false;
            this.#log.error('RCD self-test failed to run', { err });
          },
        );
        return;
      default: {
        const never: never = action;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * A control pass failed: outputs to safe, and no watchdog feed for this pass. The session is
   * told what was done, so the next good pass starts from the real outputs (and minOffS).
   */
  #failSafe(err: unknown): void {
    this.#log.error('control loop failed; outputs forced safe', { err });
    const nowMs = this.#clock.now();
    this.#session = {
      ...this.#session,
      pilot: { mode: 'F' },
      pilotSinceMs: nowMs,
      contactorClosed: false,
      lastOpenedAtMs: nowMs,
      withdrawnAtMs: null,
    };
    try {
      this.#hal.contactor.setClosed(false);
      this.#hal.pilot.drive({ mode: 'F' });
    } catch (driveErr) {
      this.#log.error('cannot force outputs safe', { err: driveErr });
    }
  }

  /**
   * Tells each listener the status when anything but the meter changed since it last heard. A
   * listener that changes an input ends the round: the others hear the newer status from the pass
   * that follows, never the stale one.
   */
  #notify(): void {
    if (this.#listeners.size === 0) return;
    const status = this.status();
    const key = JSON.stringify({ ...status, meter: null });
    this.#notifiedKey = key;
    for (const [listener, heard] of this.#listeners) {
      if (heard === key) continue;
      this.#listeners.set(listener, key);
      listener(status);
      if (this.#updateAgain) return;
    }
  }
}

import { every, type Clock } from '../../hal/clock.js';
import type { PilotOutput } from '../../hal/control-pilot.js';
import type { Hal } from '../../hal/hal.js';
import type { MeterReading } from '../../hal/meter.js';
import type { PhaseCount } from '../../hal/phase-relay.js';
import type { Logger } from '../log.js';
import { arbitrate, type ChargingLimits, type Offer } from './arbiter.js';
import { initialPilotReading, readPilot, type CpState, type PilotReading } from './pilot-reader.js';
import { cableRatingA } from './proximity.js';
import { initialSession, stepSession, type PilotFault, type SessionAction, type SessionState } from './session.js';

export interface EvseSettings {
  /** `evse.maxCurrentA` */
  readonly maxCurrentA: number;
  readonly phases: PhaseCount;
  readonly cable: 'socket' | 'tethered';
  readonly ventilation: boolean;
  readonly minOffS: number;
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
  /** Control loop period: CP sampling, timing rules, watchdog feed. */
  readonly tickMs?: number;
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
  readonly meter: MeterReading | null;
}

/** Longest a clean stop waits for the car to stop drawing before it opens under load (Table A.6 seq. 10.1). */
const STOP_GRACE_MS = 3000;

/**
 * The runner of the charging core: samples the pilot, asks the pure session what to do and is
 * the only code that drives the pilot, the contactor and the lock. Limit changes are applied at
 * once, not at the next tick.
 */
export class ChargingController {
  readonly #hal: Hal;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #evse: EvseSettings;
  readonly #tickMs: number;
  #limits: ChargingLimits;
  #reading: PilotReading = initialPilotReading;
  #session: SessionState;
  #offer: Offer;
  #stopping = false;
  #stopTimer: (() => void) | null = null;
  #listeners = new Set<(status: ChargingStatus) => void>();
  #notifiedKey = '';

  constructor(options: ControllerOptions) {
    this.#hal = options.hal;
    this.#clock = options.clock;
    this.#log = options.log.child({ module: 'charging' });
    this.#evse = options.evse;
    this.#tickMs = options.tickMs ?? 5;
    this.#limits = {
      hardwareA: options.evse.maxCurrentA,
      cableA: null,
      modbus: { limitA: options.modbusLimitA, enabled: true },
      ocpp: options.ocppConfigured ? { limitA: null, allowed: false } : null,
      faultLatched: false,
    };
    this.#offer = arbitrate(this.#limits);
    this.#session = initialSession(this.#clock.now());
    this.#hal.pilot.drive(this.#session.pilot);
  }

  /** Starts the control loop. */
  start(): void {
    this.#stopTimer ??= every(this.#clock, this.#tickMs, () => this.tick());
  }

  /**
   * A clean stop: the PWM is withdrawn, the car gets up to 3 s to stop drawing and leave C, then
   * the contactor opens (under load if it must) and the pilot is switched off.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#update();
    const deadline = this.#clock.now() + STOP_GRACE_MS;
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (!this.#session.contactorClosed || this.#clock.now() >= deadline) resolve();
        else this.#clock.setTimeout(check, this.#tickMs);
      };
      check();
    });
    this.#stopTimer?.();
    this.#stopTimer = null;
    if (this.#hal.contactor.commandedClosed) this.#log.warn('contactor opened under load at stop');
    this.#hal.contactor.setClosed(false);
    this.#hal.pilot.drive({ mode: 'off' });
  }

  /** The energy manager's inputs (Modbus 8093/8094 or the watchdog failsafe). */
  setModbusLimit(limitA: number, enabled: boolean): void {
    this.#setLimits({ ...this.#limits, modbus: { limitA, enabled } });
  }

  /** The backend's inputs: charging-profile limit (null = none) and whether a transaction permits charging. */
  setOcppLimit(limitA: number | null, allowed: boolean): void {
    if (this.#limits.ocpp === null) throw new Error('OCPP is not configured');
    this.#setLimits({ ...this.#limits, ocpp: { limitA, allowed } });
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
      meter: this.#hal.meter.latest(),
    };
  }

  /** Calls `listener` after every change of state, outputs or offer. Returns the unsubscribe function. */
  onChange(listener: (status: ChargingStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** One pass of the control loop; public so tests and benchmarks can step it. */
  tick(): void {
    this.#hal.watchdog.feed();
    const previous = this.#reading.state;
    this.#reading = readPilot(this.#reading, this.#hal.pilot.sample(), this.#hal.pilot.output, this.#clock.now());
    if (this.#reading.state !== previous) this.#log.info('pilot state', { from: previous, to: this.#reading.state });
    const cableA = this.#evse.cable === 'socket' ? cableRatingA(this.#hal.proximity.resistanceOhm(), this.#evse.phases) : null;
    if (cableA !== this.#limits.cableA) this.#limits = { ...this.#limits, cableA };
    this.#update();
  }

  #setLimits(limits: ChargingLimits): void {
    this.#limits = limits;
    this.#update();
  }

  #update(): void {
    this.#offer = arbitrate(this.#limits);
    const before = this.#session;
    const { state, actions } = stepSession(before, {
      nowMs: this.#clock.now(),
      cp: this.#reading.state,
      diodeFault: this.#reading.diodeFault,
      offeredA: this.#stopping ? 0 : this.#offer.offeredA,
      ventilation: this.#evse.ventilation,
      minOffMs: this.#evse.minOffS * 1000,
      lockRequired: this.#evse.cable === 'socket',
    });
    this.#session = state;
    for (const action of actions) this.#apply(action);
    if (state.pilotFault !== before.pilotFault) {
      if (state.pilotFault) this.#log.warn('pilot fault', { kind: state.pilotFault.kind });
      else this.#log.info('pilot fault cleared');
    }
    this.#notify();
  }

  #apply(action: SessionAction): void {
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

  /** Tells the listeners when anything but the meter changed since the last call. */
  #notify(): void {
    if (this.#listeners.size === 0) return;
    const status = this.status();
    const key = JSON.stringify({ ...status, meter: null });
    if (key === this.#notifiedKey) return;
    this.#notifiedKey = key;
    for (const listener of this.#listeners) listener(status);
  }
}

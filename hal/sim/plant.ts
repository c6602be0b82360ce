import type { Clock } from '../clock.js';
import type { PilotOutput, PilotSample } from '../control-pilot.js';
import type { MeterReading } from '../meter.js';
import type { PhaseCount } from '../phase-relay.js';
import { SimulatedEv, type EvSettings } from './ev.js';

/** Faults the simulator can inject (CONTRACT §7). */
export const SIM_FAULTS = ['diode', 'cpShort', 'relayWeld', 'contactorStuckOpen', 'rcd', 'overcurrent', 'meterLost'] as const;
export type SimFault = (typeof SIM_FAULTS)[number];

/** What the line shows: the car's state, or E/F when the pilot or a short decides it. */
export type LineState = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

const HIGH_PLATEAU_V: Record<'A' | 'B' | 'C' | 'D', number> = { A: 12, B: 9, C: 6, D: 3 };
const PP_OHM: Record<number, number> = { 0: Infinity, 13: 1500, 20: 680, 32: 220, 63: 100 };

export interface PlantOptions {
  readonly clock: Clock;
  /** Phases wired from the mains to the wallbox. */
  readonly wiredPhases: PhaseCount;
  readonly voltageV: number;
  /** Meter register at start (a real meter keeps its total across restarts). */
  readonly energyWh?: number;
  /** The meter's non-volatile register: told the total each time it reaches another whole Wh (rounded). */
  readonly keepEnergy?: (energyWh: number) => void;
}

/**
 * The physical side of the simulated wallbox: the car, the line between them, the relay
 * contacts and the meter. It holds no charging logic; the firmware drives it only through the
 * HAL objects built on it. Energy is integrated exactly: power is constant between changes, so
 * every change first books the energy of the interval that ends.
 */
export class SimPlant {
  readonly clock: Clock;
  readonly ev = new SimulatedEv();
  readonly faults = new Set<SimFault>();
  readonly wiredPhases: PhaseCount;
  readonly voltageV: number;
  pilot: PilotOutput = { mode: 'off' };
  contactorCommanded = false;
  phaseRelay: PhaseCount = 3;
  lockCommanded = false;
  /** Test backend: the lock actuator is stuck in this position (true = engaged); null = it works. */
  lockStuckAt: boolean | null = null;
  /** The hardware watchdog fired: the board is in reset, its outputs off, commands ignored. */
  halted = false;
  /** Test backend: the RCD does not trip on its test current. */
  rcdSelfTestFails = false;
  /** The grid operator's control contact (§14a EnWG) is closed. */
  gridContactClosed = false;
  /**
   * Wall-clock time (epoch ms, sub-ms) of the last change of the pilot output, the contactor
   * command and the car's settings: lets a benchmark outside the process time the firmware.
   */
  readonly changedAtMs = { pilot: 0, contactor: 0, ev: 0 };
  /** Called when a change made the CP line measure differently (the HAL's pilot change event). */
  onPilotSampleChange: (() => void) | null = null;
  #energyWh: number;
  #integratedAtMs: number;
  #lostReading: MeterReading | null = null;
  readonly #keepEnergy: ((energyWh: number) => void) | undefined;

  constructor(options: PlantOptions) {
    this.#keepEnergy = options.keepEnergy;
    this.clock = options.clock;
    this.wiredPhases = options.wiredPhases;
    this.voltageV = options.voltageV;
    this.#energyWh = options.energyWh ?? 0;
    this.#integratedAtMs = options.clock.now();
  }

  /** Applies a change to the physical world after booking the energy up to now. */
  change(mutate: () => void): void {
    this.#integrate();
    const before = this.pilotSample();
    mutate();
    const after = this.pilotSample();
    if (before.highV !== after.highV || before.lowV !== after.lowV) this.onPilotSampleChange?.();
  }

  drivePilot(output: PilotOutput): void {
    if (this.halted) return;
    if (!samePilot(this.pilot, output)) this.changedAtMs.pilot = wallClockMs();
    this.change(() => {
      this.ev.pilotChanged(this.pilot, output, this.clock.now());
      this.pilot = output;
    });
  }

  /** Commands the contactor coil (ignored while the board is halted). */
  commandContactor(closed: boolean): void {
    if (this.halted) return;
    if (closed !== this.contactorCommanded) this.changedAtMs.contactor = wallClockMs();
    this.change(() => (this.contactorCommanded = closed));
  }

  /** What the hardware watchdog does when it fires: contactor and pilot off, for good. */
  halt(): void {
    this.change(() => (this.contactorCommanded = false));
    this.drivePilot({ mode: 'off' });
    this.halted = true;
  }

  configureEv(settings: Partial<EvSettings>): void {
    this.changedAtMs.ev = wallClockMs();
    this.change(() => this.ev.configure(settings));
  }

  setFault(kind: SimFault | 'none'): void {
    this.change(() => {
      if (kind === 'none') this.faults.clear();
      else this.faults.add(kind);
      this.#lostReading = this.faults.has('meterLost') ? (this.#lostReading ?? this.#reading()) : null;
    });
  }

  lineState(): LineState {
    if (this.pilot.mode === 'off' || this.pilot.mode === 'E' || this.faults.has('cpShort')) return 'E';
    if (this.pilot.mode === 'F') return 'F';
    return this.ev.shownState(this.pilot, this.clock.now());
  }

  pilotSample(): PilotSample {
    const line = this.lineState();
    if (line === 'E') return { highV: 0, lowV: 0 };
    if (line === 'F') return { highV: -12, lowV: -12 };
    const highV = HIGH_PLATEAU_V[line];
    if (this.pilot.mode !== 'pwm') return { highV, lowV: highV };
    // Without the car's diode the car's resistors load the negative half as well.
    const diodeMissing = this.faults.has('diode') && line !== 'A';
    return { highV, lowV: diodeMissing ? -highV : -12 };
  }

  ppResistanceOhm(): number {
    return PP_OHM[this.ev.settings.ppCurrentA] ?? Infinity;
  }

  /** The main contacts as they really are: a weld holds them closed, a stuck contactor open. */
  contactsClosed(): boolean {
    if (this.faults.has('relayWeld')) return true;
    return this.contactorCommanded && !this.faults.has('contactorStuckOpen');
  }

  /** Phases the car draws on now. */
  activePhases(): PhaseCount {
    return this.wiredPhases === 1 || this.phaseRelay === 1 || this.ev.settings.phases === 1 ? 1 : 3;
  }

  currentsA(): [number, number, number] {
    if (!this.contactsClosed()) return [0, 0, 0];
    let perPhaseA = this.ev.demandA(this.pilot);
    // An over-current car ignores the pilot and takes a quarter more plus one ampere.
    if (this.faults.has('overcurrent') && perPhaseA > 0) perPhaseA = perPhaseA * 1.25 + 1;
    return this.activePhases() === 1 ? [perPhaseA, 0, 0] : [perPhaseA, perPhaseA, perPhaseA];
  }

  /** The meter's view; a lost meter keeps answering with its last reading, as a driver's cache would. */
  meterReading(): MeterReading {
    this.#integrate();
    return this.#lostReading ?? this.#reading();
  }

  #reading(): MeterReading {
    const currentsA = this.currentsA();
    const v = this.voltageV;
    const voltagesV: [number, number, number] = this.wiredPhases === 3 ? [v, v, v] : [v, 0, 0];
    const powerW = currentsA.reduce((sum, a, i) => sum + a * (voltagesV[i] ?? 0), 0);
    return { energyWh: this.#energyWh, powerW, currentsA, voltagesV, atMs: this.clock.now() };
  }

  #integrate(): void {
    const nowMs = this.clock.now();
    if (nowMs <= this.#integratedAtMs) return;
    const powerW = this.currentsA().reduce((sum, a) => sum + a * this.voltageV, 0);
    const before = this.#energyWh;
    this.#energyWh += (powerW * (nowMs - this.#integratedAtMs)) / 3_600_000;
    this.#integratedAtMs = nowMs;
    // Kept before any reading with the new whole Wh is handed out: after a crash the register
    // never reads below what was reported.
    if (Math.round(this.#energyWh) !== Math.round(before)) this.#keepEnergy?.(this.#energyWh);
  }
}

function samePilot(a: PilotOutput, b: PilotOutput): boolean {
  return a.mode === b.mode && (a.mode !== 'pwm' || (b.mode === 'pwm' && a.dutyPct === b.dutyPct));
}

function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

import type { ConnectorLock } from '../connector-lock.js';
import type { Contactor } from '../contactor.js';
import type { ControlPilot, PilotOutput, PilotSample } from '../control-pilot.js';
import type { FaultInputs } from '../fault-inputs.js';
import type { GridContact } from '../grid-contact.js';
import type { Hal } from '../hal.js';
import type { Meter, MeterReading, SigningMeter } from '../meter.js';
import type { PhaseCount, PhaseRelay } from '../phase-relay.js';
import type { ProximityPilot } from '../proximity-pilot.js';
import type { RfidReader } from '../rfid-reader.js';
import type { Rs485Port } from '../rs485-port.js';
import type { Watchdog } from '../watchdog.js';
import type { TimerHandle } from '../clock.js';
import type { SimPlant } from './plant.js';

/** The HAL of the simulated board: each peripheral is a thin view on the shared plant. */

export class SimControlPilot implements ControlPilot {
  onChange: (() => void) | null = null;
  constructor(readonly plant: SimPlant) {
    plant.onPilotSampleChange = () => this.onChange?.();
  }
  get output(): PilotOutput {
    return this.plant.pilot;
  }
  drive(output: PilotOutput): void {
    this.plant.drivePilot(output);
  }
  sample(): PilotSample {
    return this.plant.pilotSample();
  }
  close(): void {
    this.plant.drivePilot({ mode: 'off' });
  }
}

export class SimContactor implements Contactor {
  constructor(readonly plant: SimPlant) {
    this.setClosed(false);
  }
  get commandedClosed(): boolean {
    return this.plant.contactorCommanded;
  }
  setClosed(closed: boolean): void {
    this.plant.commandContactor(closed);
  }
  mirrorClosed(): boolean {
    return this.plant.contactsClosed();
  }
  close(): void {
    this.setClosed(false);
  }
}

export class SimPhaseRelay implements PhaseRelay {
  constructor(readonly plant: SimPlant) {}
  get phases(): PhaseCount {
    return this.plant.phaseRelay;
  }
  setPhases(phases: PhaseCount): void {
    this.plant.change(() => (this.plant.phaseRelay = phases));
  }
  close(): void {
    this.setPhases(3);
  }
}

export class SimProximityPilot implements ProximityPilot {
  constructor(readonly plant: SimPlant) {}
  resistanceOhm(): number {
    return this.plant.ppResistanceOhm();
  }
  close(): void {}
}

export class SimConnectorLock implements ConnectorLock {
  constructor(readonly plant: SimPlant) {}
  get commandedLocked(): boolean {
    return this.plant.lockCommanded;
  }
  setLocked(locked: boolean): void {
    this.plant.lockCommanded = locked;
  }
  feedbackLocked(): boolean {
    return this.plant.lockStuckAt ?? this.plant.lockCommanded;
  }
  close(): void {}
}

export class SimMeter implements Meter {
  constructor(
    readonly plant: SimPlant,
    readonly signing?: SigningMeter,
  ) {}
  latest(): MeterReading {
    return this.plant.meterReading();
  }
  close(): void {}
}

export class SimRfidReader implements RfidReader {
  onCard: ((idTag: string) => void) | null = null;
  /** A card held to the reader. */
  present(idTag: string): void {
    this.onCard?.(idTag);
  }
  close(): void {
    this.onCard = null;
  }
}

/** Time the simulated RCD self-test takes. */
export const SIM_RCD_SELF_TEST_MS = 200;

export class SimFaultInputs implements FaultInputs {
  constructor(readonly plant: SimPlant) {}
  rcdTripped(): boolean {
    return this.plant.faults.has('rcd');
  }
  selfTestRcd(): Promise<boolean> {
    return new Promise((resolve) => {
      this.plant.clock.setTimeout(() => resolve(!this.plant.rcdSelfTestFails && !this.plant.faults.has('rcd')), SIM_RCD_SELF_TEST_MS);
    });
  }
  close(): void {}
}

/** The grid operator's contact as the simulator's control API sets it. */
export class SimGridContact implements GridContact {
  constructor(readonly plant: SimPlant) {}
  closed(): boolean {
    return this.plant.gridContactClosed;
  }
  close(): void {}
}

/**
 * A hardware watchdog: armed by the first feed, it drops the contactor and the pilot by itself
 * when no feed comes for `timeoutMs`, as the board's safety circuit would. It records the feeds.
 */
export class SimWatchdog implements Watchdog {
  feeds = 0;
  lastFeedMs: number | null = null;
  bitten = false;
  closed = false;
  readonly timeoutMs: number;
  #timer: TimerHandle | null = null;

  constructor(
    readonly plant: SimPlant,
    options: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1000;
  }

  feed(): void {
    this.feeds++;
    this.lastFeedMs = this.plant.clock.now();
    if (this.#timer !== null) this.plant.clock.clearTimeout(this.#timer);
    this.#timer = this.plant.clock.setTimeout(() => this.#bite(), this.timeoutMs);
  }

  close(): void {
    if (this.#timer !== null) this.plant.clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.closed = true;
  }

  #bite(): void {
    this.bitten = true;
    this.plant.halt();
  }
}

export interface SimHal extends Hal {
  readonly pilot: SimControlPilot;
  readonly contactor: SimContactor;
  readonly rfid: SimRfidReader;
  readonly watchdog: SimWatchdog;
  readonly gridContact: SimGridContact;
}

/**
 * The simulated hardware on `plant`; the RS-485 port, when given, is a real (or virtual) tty of
 * the host; `signing` makes the meter a calibration-law one (`sim.signedMeter`).
 */
export function createSimHal(plant: SimPlant, rs485: Rs485Port | null = null, signing?: SigningMeter): SimHal {
  return {
    rs485,
    pilot: new SimControlPilot(plant),
    proximity: new SimProximityPilot(plant),
    contactor: new SimContactor(plant),
    phaseRelay: new SimPhaseRelay(plant),
    lock: new SimConnectorLock(plant),
    meter: new SimMeter(plant, signing),
    rfid: new SimRfidReader(),
    faults: new SimFaultInputs(plant),
    gridContact: new SimGridContact(plant),
    watchdog: new SimWatchdog(plant),
  };
}

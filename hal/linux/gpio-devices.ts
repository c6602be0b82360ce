import { waitFor, type Clock } from '../clock.js';
import type { ConnectorLock } from '../connector-lock.js';
import type { Contactor } from '../contactor.js';
import type { FaultInputs } from '../fault-inputs.js';
import type { GpioLine } from '../gpio.js';
import type { GridContact } from '../grid-contact.js';
import type { PhaseCount, PhaseRelay } from '../phase-relay.js';

/**
 * The relays and inputs of a Linux board as GPIO lines. Each class owns its lines; outputs are
 * wired so that an undriven pin (a halted or rebooting SoM) means open / unlocked / three phases.
 */

/** Contactor coil (output) and its auxiliary mirror contact (input, edge-watched, debounced). */
export class GpioContactor implements Contactor {
  readonly #coil: GpioLine;
  readonly #mirror: GpioLine;
  #commanded = false;
  #mirrorClosed: boolean;

  constructor(coil: GpioLine, mirror: GpioLine) {
    this.#coil = coil;
    this.#mirror = mirror;
    this.#mirrorClosed = mirror.read();
    mirror.onEdge((active) => (this.#mirrorClosed = active));
  }

  setClosed(closed: boolean): void {
    this.#coil.write(closed);
    this.#commanded = closed;
  }

  get commandedClosed(): boolean {
    return this.#commanded;
  }

  mirrorClosed(): boolean {
    return this.#mirrorClosed;
  }

  close(): void {
    this.#coil.close();
    this.#mirror.close();
  }
}

/** The 1p/3p relay: energised passes L1 only. */
export class GpioPhaseRelay implements PhaseRelay {
  readonly #relay: GpioLine;
  #phases: PhaseCount = 3;

  constructor(relay: GpioLine) {
    this.#relay = relay;
  }

  setPhases(phases: PhaseCount): void {
    this.#relay.write(phases === 1);
    this.#phases = phases;
  }

  get phases(): PhaseCount {
    return this.#phases;
  }

  close(): void {
    this.#relay.close();
  }
}

/** The connector lock's actuator (output) and its feedback switch (input). */
export class GpioConnectorLock implements ConnectorLock {
  readonly #actuator: GpioLine;
  readonly #feedback: GpioLine;
  #commanded = false;

  constructor(actuator: GpioLine, feedback: GpioLine) {
    this.#actuator = actuator;
    this.#feedback = feedback;
  }

  setLocked(locked: boolean): void {
    this.#actuator.write(locked);
    this.#commanded = locked;
  }

  get commandedLocked(): boolean {
    return this.#commanded;
  }

  feedbackLocked(): boolean {
    return this.#feedback.read();
  }

  close(): void {
    this.#actuator.close();
    this.#feedback.close();
  }
}

/** How long the RCD module gets to trip on its test current, and to recover after it. */
const RCD_TRIP_MS = 300;
const RCD_RECOVER_MS = 1000;

/** The RCD / 6 mA DC fault module: its trip output (input, edge-watched) and its test input (output). */
export class GpioFaultInputs implements FaultInputs {
  readonly #trip: GpioLine;
  readonly #test: GpioLine;
  readonly #clock: Clock;
  #tripped: boolean;
  #testing = false;

  constructor(trip: GpioLine, test: GpioLine, clock: Clock) {
    this.#trip = trip;
    this.#test = test;
    this.#clock = clock;
    this.#tripped = trip.read();
    trip.onEdge((active) => (this.#tripped = active));
  }

  /** A trip caused by our own test current is not a fault. */
  rcdTripped(): boolean {
    return this.#tripped && !this.#testing;
  }

  /** Drives the test input: true when the module tripped within 300 ms and recovered after. */
  async selfTestRcd(): Promise<boolean> {
    this.#testing = true;
    try {
      this.#test.write(true);
      const tripped = await this.#waitFor(() => this.#trip.read(), RCD_TRIP_MS);
      this.#test.write(false);
      return tripped && (await this.#waitFor(() => !this.#trip.read(), RCD_RECOVER_MS));
    } finally {
      this.#test.write(false);
      this.#tripped = this.#trip.read();
      this.#testing = false;
    }
  }

  close(): void {
    this.#trip.close();
    this.#test.close();
  }

  #waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return waitFor(this.#clock, condition, timeoutMs, 5);
  }
}

/** The grid operator's control contact: one input, edge-watched and debounced like the fault inputs. */
export class GpioGridContact implements GridContact {
  readonly #line: GpioLine;
  #closed: boolean;

  constructor(line: GpioLine) {
    this.#line = line;
    this.#closed = line.read();
    line.onEdge((active) => (this.#closed = active));
  }

  closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#line.close();
  }
}

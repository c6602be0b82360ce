import type { Clock } from '../clock.js';
import type { Meter, MeterReading } from '../meter.js';
import type { Rs485Settings } from '../rs485-port.js';
import { MeterPoller, type MeterReporter } from './meter-poller.js';
import { openRtuMaster } from './modbus-client.js';

/** What the meter driver needs of a Modbus RTU master: input registers (FC04) as raw bytes. */
export interface InputRegisterReader {
  readInputRegisters(address: number, count: number): Promise<Buffer>;
  close(): Promise<void>;
}

export interface Sdm630Options {
  readonly bus: InputRegisterReader;
  readonly clock: Clock;
  readonly log: MeterReporter;
  /** Poll period; the supervision calls the meter lost after 10 s without a reading. */
  readonly pollMs?: number;
}

/**
 * Input registers of an Eastron SDM630-class three-phase meter (IEEE 754 floats, big-endian,
 * two registers each): phase voltages from 0x0000, phase currents from 0x0006, total power at
 * 0x0034, total import energy (kWh) at 0x0048.
 */
const VOLTAGES = 0x0000;
const TOTAL_POWER = 0x0034;
const IMPORT_KWH = 0x0048;

/**
 * A DIN-rail meter polled on its own RS-485 bus. `latest()` is the last good reading with its
 * time; a meter that stops answering keeps its last reading, whose age lets the supervision
 * raise meterLost (CONTRACT §6) while charging stays safe.
 */
export class Sdm630Meter implements Meter {
  readonly #o: Sdm630Options;
  readonly #poller: MeterPoller;

  constructor(options: Sdm630Options) {
    this.#o = options;
    this.#poller = new MeterPoller({ clock: options.clock, log: options.log, pollMs: options.pollMs ?? 1000, read: () => this.#read() });
  }

  latest(): MeterReading | null {
    return this.#poller.latest;
  }

  /** One poll (the timer calls it; tests may too). */
  poll(): Promise<void> {
    return this.#poller.poll();
  }

  async #read(): Promise<MeterReading> {
    const phases = await this.#o.bus.readInputRegisters(VOLTAGES, 12);
    const power = await this.#o.bus.readInputRegisters(TOTAL_POWER, 2);
    const energy = await this.#o.bus.readInputRegisters(IMPORT_KWH, 2);
    const at = (i: number): number => phases.readFloatBE(i * 4);
    return {
      energyWh: energy.readFloatBE(0) * 1000,
      powerW: power.readFloatBE(0),
      voltagesV: [at(0), at(1), at(2)],
      currentsA: [at(3), at(4), at(5)],
      atMs: this.#o.clock.now(),
    };
  }

  close(): void {
    this.#poller.stop();
    void this.#o.bus.close();
  }
}

/** A Modbus RTU master on a tty (`modbus-serial`), talking to meter `unitId`. */
export async function openMeterBus(settings: Rs485Settings, unitId: number, timeoutMs = 500): Promise<InputRegisterReader> {
  const { client, close } = await openRtuMaster(settings, unitId, timeoutMs);
  return { readInputRegisters: async (address, count) => (await client.readInputRegisters(address, count)).buffer, close };
}

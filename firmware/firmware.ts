import { join } from 'node:path';
import type { Clock } from '../hal/clock.js';
import type { Hal } from '../hal/hal.js';
import { ChargingController, type ChargingStatus } from './charging/controller.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { FaultLog } from './safety/fault-log.js';
import { writeFileAtomic } from './store/atomic-file.js';

export interface FirmwareOptions {
  readonly config: Config;
  readonly hal: Hal;
  readonly clock: Clock;
  readonly log: Logger;
  /** Where faults are kept (dataDir on a real box); in memory when not given. */
  readonly faultLog?: FaultLog;
  /** Control loop period, ms (tests and benchmarks may change it). */
  readonly tickMs?: number;
}

/**
 * The firmware core composed from HAL objects, a clock and a logger. It imports no board and no
 * driver; `main.ts` (or a test, or the fleet simulator) hands them in.
 */
export class Firmware {
  readonly charging: ChargingController;
  readonly #config: Config;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(options: FirmwareOptions) {
    this.#config = options.config;
    this.#clock = options.clock;
    this.#log = options.log;
    const { evse } = options.config;
    this.charging = new ChargingController({
      hal: options.hal,
      clock: options.clock,
      log: options.log,
      evse,
      modbusLimitA: evse.maxCurrentA,
      ocppConfigured: options.config.ocpp !== null,
      ...(options.tickMs !== undefined && { tickMs: options.tickMs }),
      ...(options.faultLog !== undefined && { faultLog: options.faultLog }),
    });
  }

  /** What the box shows people: the charging status and the fault history. */
  status(): ChargingStatus & { readonly faultHistory: ReturnType<ChargingController['faultHistory']> } {
    return { ...this.charging.status(), faultHistory: this.charging.faultHistory() };
  }

  start(): void {
    this.charging.start();
    this.#log.info('firmware running', { evse: this.#config.evse });
    const latched = this.charging.status().faults;
    if (latched.length > 0) this.#log.warn('latched faults in force', { faults: latched.map((f) => f.kind) });
  }

  /** CONTRACT §1 clean stop: PWM off, contactor open, state saved with a clean-stop marker. */
  async stop(): Promise<void> {
    await this.charging.stop();
    const meter = this.charging.status().meter;
    const state = { cleanStop: true, stoppedAt: new Date(this.#clock.now()).toISOString(), energyWh: meter?.energyWh ?? null };
    await writeFileAtomic(join(this.#config.dataDir, 'state.json'), JSON.stringify(state));
    this.#log.info('firmware stopped');
  }
}

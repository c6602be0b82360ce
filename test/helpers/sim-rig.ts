import { ChargingController, type EvseSettings } from '../../firmware/charging/controller.js';
import type { GridSettings } from '../../firmware/charging/grid.js';
import { silentLogger } from '../../firmware/log.js';
import type { FaultLog } from '../../firmware/safety/fault-log.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { createSimHal, type SimHal } from '../../hal/sim/peripherals.js';
import { SimPlant } from '../../hal/sim/plant.js';

export const DEFAULT_EVSE: EvseSettings = {
  maxCurrentA: 32,
  phases: 3,
  cable: 'socket',
  ventilation: false,
  minOffS: 5,
  phaseSwitching: { enabled: false, minIntervalS: 300, pauseS: 10 },
};

export interface Rig {
  clock: SimulatedClock;
  plant: SimPlant;
  hal: SimHal;
  controller: ChargingController;
  /** Advances simulated time until `condition` holds; returns the ms it took (throws after `limitMs`). */
  until(condition: () => boolean, limitMs?: number): number;
  /** Advances simulated time in 5 ms steps, letting promises run between them, until `promise` settles. */
  settle<T>(promise: Promise<T>, limitMs?: number): Promise<T>;
  /** `until` for conditions that need promises to run on the way (HAL calls that are async); returns the ms. */
  waitFor(condition: () => boolean, limitMs?: number): Promise<number>;
  /** The contactor as the coil is commanded. */
  closed(): boolean;
  /** The kinds of the faults in force. */
  faults(): string[];
}

/** The charging core on the simulated board, on a simulated clock, started. */
export function simRig(
  options: {
    evse?: Partial<EvseSettings>;
    ocpp?: boolean;
    modbusLimitA?: number;
    tickMs?: number;
    faultLog?: FaultLog;
    clock?: SimulatedClock;
    grid?: GridSettings;
  } = {},
): Rig {
  const clock = options.clock ?? new SimulatedClock();
  const evse = { ...DEFAULT_EVSE, ...options.evse };
  const plant = new SimPlant({ clock, wiredPhases: evse.phases, voltageV: 230 });
  const hal = createSimHal(plant);
  const controller = new ChargingController({
    hal,
    clock,
    log: silentLogger,
    evse,
    modbusLimitA: options.modbusLimitA ?? evse.maxCurrentA,
    ocppConfigured: options.ocpp ?? false,
    ...(options.tickMs !== undefined && { tickMs: options.tickMs }),
    ...(options.faultLog !== undefined && { faultLog: options.faultLog }),
    ...(options.grid !== undefined && { grid: options.grid }),
  });
  controller.start();
  clock.advance(200); // let the pilot reading settle on A
  return {
    clock,
    plant,
    hal,
    controller,
    until: (condition, limitMs = 60_000) => clock.advanceUntil(condition, limitMs),
    async settle(promise, limitMs = 60_000) {
      let settled = false;
      const tracked = promise.finally(() => (settled = true));
      await this.waitFor(() => settled, limitMs);
      return tracked;
    },
    async waitFor(condition, limitMs = 60_000) {
      const startMs = clock.now();
      while (!condition()) {
        if (clock.now() - startMs > limitMs) throw new Error(`condition not met within ${limitMs} ms of simulated time`);
        clock.advance(5);
        await new Promise((resolve) => setImmediate(resolve));
      }
      return clock.now() - startMs;
    },
    closed: () => plant.contactorCommanded,
    faults: () => controller.status().faults.map((f) => f.kind),
  };
}

/** Plugs in a car that asks for C and waits for the contactor; returns the rig for chaining. */
export function charging(rig: Rig): Rig {
  rig.plant.configureEv({ state: 'C' });
  rig.until(() => rig.closed(), 5_000);
  return rig;
}

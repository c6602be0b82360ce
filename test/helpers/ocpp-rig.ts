import { parseConfig } from '../../firmware/config.js';
import { ConfigOverlay } from '../../firmware/config-overlay.js';
import { Firmware } from '../../firmware/firmware.js';
import { silentLogger, type Logger } from '../../firmware/log.js';
import type { ChargePoint } from '../../firmware/ocpp/charge-point.js';
import { systemClock, type Clock } from '../../hal/clock.js';
import { createSimHal, type SimHal } from '../../hal/sim/peripherals.js';
import { SimPlant } from '../../hal/sim/plant.js';
import { SimSigningMeter } from '../../hal/sim/signing-meter.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { startCentralSystem, type CentralSystem, type RecordedCall } from './central-system.js';

/**
 * The firmware core on the simulated board and a simulated clock, talking over real WebSockets to
 * the strict independent central system (`central-system.ts`). Simulated time moves only while a
 * test paces it, in small steps with real I/O in between, so minutes of OCPP pass in a moment and
 * every interval is exact. Not a test file itself.
 */

export interface OcppRig {
  readonly cs: CentralSystem;
  /** The simulated clock, or the host's with `realTime`. */
  readonly clock: Clock;
  readonly plant: SimPlant;
  readonly hal: SimHal;
  readonly firmware: Firmware;
  readonly cp: ChargePoint;
  /** Lets simulated time pass in `stepMs` steps (real I/O between them) until `done`; throws after `limitMs` of simulated time. */
  pace(done: () => boolean, limitMs?: number, stepMs?: number): Promise<void>;
  /** Lets `ms` of simulated time pass. */
  advance(ms: number, stepMs?: number): Promise<void>;
  /** Paces until the central system has a call `action` (matching) at or after index `from`. */
  waitCall(action: string, match?: (params: Record<string, any>) => boolean, from?: number, limitMs?: number): Promise<RecordedCall>;
  /** Paces until connector 1 reports `status` at or after index `from`. */
  waitStatus(status: string, from?: number, limitMs?: number): Promise<RecordedCall>;
  /** Calls the charge point from the central system, pacing until it answers. */
  call(action: string, params: Record<string, any>, limitMs?: number): Promise<any>;
  /** The car: A (unplugged), B, C. */
  car(state: 'A' | 'B' | 'C'): void;
  card(idTag: string): void;
  /** Calls recorded since index `from` (of `action` when given). */
  since(from: number, action?: string): RecordedCall[];
  close(): Promise<void>;
}

export interface OcppRigOptions {
  /** Files in dataDir before the start (e.g. `ocpp-configuration.json`). */
  readonly files?: Record<string, string>;
  readonly ocpp?: Record<string, unknown>;
  /** Other config sections (evse, sim...). */
  readonly config?: Record<string, unknown>;
  readonly startMs?: number;
  readonly log?: Logger;
  /** Prepares the central system before the firmware starts (handlers). */
  readonly prepare?: (cs: CentralSystem) => void;
  /** Does not wait for Boot Accepted and the first Available. */
  readonly noWait?: boolean;
  /** The host clock (`systemClock`, real timers) instead of the simulated one: time passes as it does. */
  readonly realTime?: boolean;
  /** false: the central system accepts and sends payloads outside the schemas (a misbehaving backend). */
  readonly strict?: boolean;
  /** Keeps run-time values (AuthorizationKey, Modbus 8040...) in dataDir's config overlay, as the firmware process does. */
  readonly overlay?: boolean;
  /** The simulated meter's register at the start, Wh (a meter keeps it across a restart; the sim board in sim-meter.json). */
  readonly meterWh?: number;
}

export async function ocppRig(dataDir: string, options: OcppRigOptions = {}): Promise<OcppRig> {
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  for (const [name, text] of Object.entries(options.files ?? {})) await writeFile(join(dataDir, name), text);
  const simulated = options.realTime === true ? null : new SimulatedClock({ startMs: options.startMs ?? Date.now() });
  const clock: Clock = simulated ?? systemClock;
  // The calls are stamped with the rig's clock: gaps between them are simulated time.
  const cs = await startCentralSystem({ strict: options.strict ?? true, now: () => clock.now() });
  options.prepare?.(cs);
  const fileConfig = parseConfig({
    dataDir,
    modbus: { tcp: null },
    http: null,
    ...options.config,
    ocpp: { url: cs.url, chargeBoxId: 'conformance', password: '', ...options.ocpp },
  });
  const log = options.log ?? silentLogger;
  const overlay = options.overlay === true ? await ConfigOverlay.load(fileConfig, log) : null;
  const config = overlay?.config ?? fileConfig;
  // Wired as the sim board wires it (board/sim.ts): the config's phases and voltage, a signing meter with `sim.signedMeter`.
  const plant = new SimPlant({ clock, wiredPhases: config.evse.phases, voltageV: config.evse.voltageV, energyWh: options.meterWh ?? 0 });
  const signing = config.sim.signedMeter ? await SimSigningMeter.open(plant, dataDir) : undefined;
  const hal = createSimHal(plant, null, signing);
  // As the sim board does: `sim.clockSynced` says whether the host clock counts as NTP-synchronised.
  const firmware = new Firmware({
    config,
    hal,
    clock,
    log,
    ...(overlay !== null && { overlay, fileConfig }),
    tickMs: 50,
    bootId: 'boot-1',
    serialNumber: 'SIM-000001', // the sim board's
    clockSynced: () => config.sim.clockSynced,
  });
  await firmware.start();
  const pace = async (done: () => boolean, limitMs = 120_000, stepMs = 50): Promise<void> => {
    const startMs = clock.now();
    while (!done()) {
      if (clock.now() - startMs > limitMs)
        throw new Error(`not reached within ${limitMs} ms of simulated time; calls: ${cs.calls.map((c) => c.action).join(', ')}`);
      simulated?.advance(stepMs);
      await new Promise((resolve) => setTimeout(resolve, simulated === null ? stepMs : 1));
    }
  };
  const find = (action: string, match: (params: Record<string, any>) => boolean, from: number): RecordedCall | undefined =>
    cs.calls.slice(from).find((c) => c.action === action && match(c.params));
  const rig: OcppRig = {
    cs,
    clock,
    plant,
    hal,
    firmware,
    get cp(): ChargePoint {
      if (firmware.chargePoint === null) throw new Error('no charge point');
      return firmware.chargePoint;
    },
    pace,
    async advance(ms, stepMs = 50) {
      const endMs = clock.now() + ms;
      await pace(() => clock.now() >= endMs, ms + stepMs, stepMs);
    },
    async waitCall(action, match = () => true, from = 0, limitMs = 60_000) {
      await pace(() => find(action, match, from) !== undefined, limitMs);
      return find(action, match, from) as RecordedCall;
    },
    waitStatus(status, from = 0, limitMs = 60_000) {
      return rig.waitCall('StatusNotification', (p) => p['connectorId'] === 1 && p['status'] === status, from, limitMs);
    },
    async call(action, params, limitMs = 60_000) {
      let settled = false;
      const answer = cs.call(action, params).finally(() => (settled = true));
      await pace(() => settled, limitMs);
      return answer;
    },
    car: (state) => plant.configureEv({ state }),
    card: (idTag) => hal.rfid.present(idTag),
    since: (from, action) => cs.calls.slice(from).filter((c) => action === undefined || c.action === action),
    async close() {
      let stopped = false;
      const stopping = firmware.stop().finally(() => (stopped = true));
      await pace(() => stopped, 60_000).catch(() => {});
      await stopping.catch(() => {});
      await cs.close();
    },
  };
  if (options.noWait !== true) await rig.waitStatus('Available');
  return rig;
}

/**
 * `ocppRig` inside a subtest: the rig is stopped in a teardown registered before the test's
 * folder, so the folder is never removed under a running firmware.
 */
export async function ocppRigFor(
  t: { teardown(fn: () => unknown): void; testdir(): string },
  options: OcppRigOptions = {},
): Promise<OcppRig> {
  let rig: OcppRig | null = null;
  t.teardown(() => rig?.close());
  rig = await ocppRig(t.testdir(), options);
  return rig;
}

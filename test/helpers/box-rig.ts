import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimControlApi, simSnapshot } from '../../board/sim-control-api.js';
import { ConfigOverlay } from '../../firmware/config-overlay.js';
import { parseConfig, type Config } from '../../firmware/config.js';
import { endpoints, Firmware } from '../../firmware/firmware.js';
import { WebInterface } from '../../firmware/http/server.js';
import { createSimHal, type SimHal } from '../../hal/sim/peripherals.js';
import { SimPlant } from '../../hal/sim/plant.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { rigLogs, type RigLogs } from './rig-extras.js';

/**
 * The whole box in the test's process, on a simulated clock: the firmware core on the simulated
 * board, the web interface and the simulator control API on free loopback ports, composed as
 * board/sim.ts, main.ts and protocol-worker.ts compose them (the config file, the run-time overlay
 * in dataDir, each interface on the overlay's value with the file's as fallback). What
 * `startBox` (firmware-process.ts) is for a spawned bundle, for tests where the process is not
 * the point: minutes pass in a moment and every reaction time is exact. The worker-thread
 * boundary, signals and exit codes are not here: those tests stay spawned.
 */

export interface BoxRig {
  readonly clock: SimulatedClock;
  readonly plant: SimPlant;
  readonly hal: SimHal;
  readonly firmware: Firmware;
  /** The config file's values, as parsed (before the overlay). */
  readonly fileConfig: Config;
  /** Where the config was written (`--config` of a tool run on the same dataDir). */
  readonly configFile: string;
  /** The firmware's log lines (all levels), stamped with simulated time. */
  readonly logs: RigLogs;
  /** The port of Modbus TCP (from its log line); null while it is not listening. */
  readonly modbusPort: number | null;
  /** The port of the HTTP API; null without `http` in the config (or before it could listen). */
  readonly httpPort: number | null;
  /** What `startBox`'s `fw` offers that applies here (web-client.ts's setup reads the setup code through it). */
  readonly fw: { waitForLog(match: (line: Record<string, unknown>) => boolean, limitMs?: number): Promise<Record<string, unknown>> };
  /** GET /sim's body, read straight from the plant (no request: it can be checked at every step). */
  snapshot(): Record<string, any>;
  /** GET /sim over HTTP. */
  sim(): Promise<Record<string, any>>;
  /** POST to the simulator control API over HTTP. */
  simPost(path: string, body: unknown): Promise<Response>;
  /** Lets simulated time pass in `stepMs` steps (real I/O between them) until `done`; the simulated ms it took. Throws after `limitMs`. */
  pace(done: () => boolean, limitMs?: number, stepMs?: number): Promise<number>;
  /** Lets `ms` of simulated time pass. */
  advance(ms: number): Promise<void>;
  /** Probes (over I/O: HTTP, files) every `stepMs` of simulated time until `accept` takes the value; throws after `limitMs`. */
  poll<T>(probe: () => Promise<T>, accept: (value: T) => boolean, limitMs?: number, stepMs?: number): Promise<T>;
  /** Paces until `promise` settles (a request whose answer needs the firmware's timers). */
  settle<T>(promise: Promise<T>, limitMs?: number): Promise<T>;
  /** Stops it as SIGTERM does: the firmware (clean-stop marker), then the web interface and the simulator API. Once; later calls wait for it. */
  close(): Promise<void>;
}

/** Simulated time between two real waits of `pace` (ocpp-rig's step). */
const REAL_WAIT_EVERY_MS = 50;

export interface BoxRigOptions {
  /** Control loop period, ms (the firmware's default when not given). */
  readonly tickMs?: number;
}

/**
 * Starts the box with `config` (the config file's content: dataDir defaults to `dir`/data, the
 * simulator API and Modbus TCP to free loopback ports, no HTTP unless given), written to
 * `dir`/config.json.
 */
export async function boxRig(dir: string, config: Record<string, any> = {}, options: BoxRigOptions = {}): Promise<BoxRig> {
  const raw = {
    dataDir: join(dir, 'data'),
    sim: { controlPort: 0 },
    http: null,
    ...config,
    modbus: { tcp: { host: '127.0.0.1', port: 0 }, ...(config['modbus'] ?? {}) },
  };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(raw));
  const fileConfig = parseConfig(raw);
  mkdirSync(fileConfig.dataDir, { recursive: true });
  const clock = new SimulatedClock();
  const logs = rigLogs('debug');
  logs.useClock(clock);
  const log = logs.logger;
  const overlay = await ConfigOverlay.load(fileConfig, log);
  const cfg = overlay.config;
  const plant = new SimPlant({ clock, wiredPhases: cfg.evse.phases, voltageV: cfg.evse.voltageV });
  const rs485 = cfg.modbus.rtu ? new (await import('../../hal/linux/rs485-port.js')).SerialRs485Port(cfg.modbus.rtu) : null;
  const hal = createSimHal(plant, rs485);
  const gridActiveWhen = cfg.grid?.activeWhen ?? 'closed';
  const api = new SimControlApi({ plant, rfid: hal.rfid, log: log.child({ module: 'sim' }), gridActiveWhen, clock });
  await api.listen('127.0.0.1', cfg.sim.controlPort);
  const firmware = new Firmware({
    config: cfg,
    fileConfig,
    hal,
    clock,
    log,
    overlay,
    serialNumber: 'SIM-000001',
    bootId: 'boot-1',
    clockSynced: () => cfg.sim.clockSynced,
    ...(options.tickMs !== undefined && { tickMs: options.tickMs }),
  });
  const webRoot = new URL('../../dist/web/', import.meta.url).pathname;
  const web = cfg.http === null ? null : new WebInterface({ firmware, overlay, clock, log, webRoot });
  await web?.prepare();
  await firmware.start();
  if (cfg.http !== null) await web?.start(endpoints(cfg.http, fileConfig.http));

  // `done` is looked at every step (a control pass: exact reaction times), with the I/O that is
  // ready run in between; at most REAL_WAIT_EVERY_MS of simulated time passes per real
  // millisecond, as in ocpp-rig, so that a peer in another process keeps up. (A real wait at every
  // step made a loaded machine's scheduling latency, not the test, set the pace.)
  const pace = async (done: () => boolean, limitMs = 60_000, stepMs = 5): Promise<number> => {
    const startMs = clock.now();
    let sinceWaitMs = 0;
    while (!done()) {
      if (clock.now() - startMs > limitMs)
        throw new Error(`not reached within ${limitMs} ms of simulated time; last /sim ${JSON.stringify(snapshot())}`);
      clock.advance(stepMs);
      sinceWaitMs += stepMs;
      if (sinceWaitMs < REAL_WAIT_EVERY_MS) await new Promise((resolve) => setImmediate(resolve));
      else {
        sinceWaitMs = 0;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    return clock.now() - startMs;
  };
  const settle = async <T>(promise: Promise<T>, limitMs = 60_000): Promise<T> => {
    let settled = false;
    const tracked = promise.finally(() => (settled = true));
    await pace(() => settled, limitMs);
    return tracked;
  };
  const snapshot = (): Record<string, any> => simSnapshot(plant, null, gridActiveWhen);
  // A box up for a moment: the pilot reading has settled (a box's status has no CP state before).
  await pace(() => firmware.charging.status().cp !== null, 1_000);
  const listening = logs.find((l) => l['msg'] === 'HTTP API listening');
  const simBase = `http://127.0.0.1:${api.port}`;
  let closing: Promise<void> | null = null;
  return {
    clock,
    plant,
    hal,
    firmware,
    fileConfig,
    configFile,
    logs,
    get modbusPort() {
      const line = logs.find((l) => l['msg'] === 'Modbus TCP listening');
      return line === undefined ? null : Number(line['port']);
    },
    httpPort: listening === undefined ? null : Number(listening['port']),
    fw: {
      async waitForLog(match, limitMs = 10_000) {
        await pace(() => logs.find(match) !== undefined, limitMs).catch(() => {
          throw new Error(
            `no matching log line within ${limitMs} ms of simulated time; saw: ${logs.lines.map((l) => String(l['msg'])).join(' | ')}`,
          );
        });
        return logs.find(match) as Record<string, unknown>;
      },
    },
    snapshot,
    sim: async () => (await (await fetch(`${simBase}/sim`)).json()) as Record<string, any>,
    simPost: (path, body) => fetch(`${simBase}${path}`, { method: 'POST', body: JSON.stringify(body) }),
    pace,
    async advance(ms) {
      const endMs = clock.now() + ms;
      await pace(() => clock.now() >= endMs, ms + 5);
    },
    settle,
    async poll(probe, accept, limitMs = 60_000, stepMs = 50) {
      const startMs = clock.now();
      for (;;) {
        const value = await probe();
        if (accept(value)) return value;
        if (clock.now() - startMs > limitMs)
          throw new Error(`not met within ${limitMs} ms of simulated time; last value ${JSON.stringify(value)}`);
        const nextMs = clock.now() + stepMs;
        await pace(() => clock.now() >= nextMs);
      }
    },
    close() {
      closing ??= (async () => {
        await settle(firmware.stop());
        await web?.stop();
        await api.close();
      })();
      return closing;
    },
  };
}

/**
 * `boxRig` inside a subtest, in its folder (made from `fixture` when given): closed in a teardown
 * registered before the folder's, so the folder is never removed under a running firmware.
 */
export async function boxRigFor<F>(
  t: { teardown(fn: () => unknown): void; testdir(fixture?: F): string },
  config: Record<string, any> = {},
  options: BoxRigOptions & { readonly fixture?: F } = {},
): Promise<BoxRig> {
  let rig: BoxRig | null = null;
  t.teardown(() => rig?.close());
  rig = await boxRig(t.testdir(options.fixture), config, options);
  return rig;
}

// Fleet simulator: N simulated wallboxes (the real firmware core on the sim board) in one
// process against one central system, for load tests of a backend and for `npm run bench`.
//
//   node dist/tools/fleet.mjs --url ws://host:port/path --count 1000 [--prefix fleet-]
//        [--sample-s 60] [--data DIR] [--tick-ms 250] [--threads T]
//
// Each box boots, plugs a car in after a random pause, charges with the fixed idTag FLEET and
// sends MeterValues every --sample-s; heartbeats follow the central system's interval. A JSON
// line every 5 s tells how many are online and charging, the process memory and CPU. SIGTERM
// stops every box cleanly (StopTransaction Reboot).
//
// The boxes run in --threads worker threads (a share each; one per 500 boxes, at most one a core),
// the main thread only reports: one JavaScript thread cannot run 2,000 boxes' control loops, OCPP
// and state files on time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { systemClock } from '../hal/clock.js';
import { createSimHal } from '../hal/sim/peripherals.js';
import { SimPlant } from '../hal/sim/plant.js';
import { parseConfig } from '../firmware/config.js';
import { Firmware } from '../firmware/firmware.js';
import { createLogger } from '../firmware/log.js';

interface Settings {
  readonly url: string;
  readonly prefix: string;
  readonly sampleS: string;
  readonly data: string;
  readonly tickMs: number;
}

/** A worker's share: boxes `first`..`first + count - 1` (numbered from 1). */
interface Share {
  readonly settings: Settings;
  readonly first: number;
  readonly count: number;
  /** Boxes a worker starts side by side before its pause. */
  readonly group: number;
}

/** A worker's share of the status line: its boxes, and its JavaScript heap as V8 holds it and in use. */
interface WorkerStatus {
  readonly online: number;
  readonly charging: number;
  readonly heapMb: number;
  readonly heapUsedMb: number;
}

/** What a worker tells the main thread. */
type WorkerMessage = { readonly kind: 'started' } | ({ readonly kind: 'status' } & WorkerStatus) | { readonly kind: 'stopped' };

/** Handshakes a backend sees at once at most (every worker's group together), then a pause. */
const START_GROUP = 20;
const START_PAUSE_MS = 50;
const STATUS_EVERY_MS = 5000;
/** How often a worker counts its boxes for the main thread's status line. */
const COUNT_EVERY_MS = 1000;

if (isMainThread) await runMain();
else await runWorker(workerData as Share);

async function runMain(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      count: { type: 'string', default: '100' },
      prefix: { type: 'string', default: 'fleet-' },
      'sample-s': { type: 'string', default: '60' },
      data: { type: 'string', default: './fleet-data' },
      // The control loop of a simulated car need not run at the 5 ms of real hardware: at 250 ms
      // 2,000 boxes fit on two cores, and the OCPP side (what a backend sees) is unchanged (its
      // timers are its own; the meter reading is kept every second).
      'tick-ms': { type: 'string', default: '250' },
      // One thread per 500 boxes, at most one a core: a second thread costs a Node environment.
      threads: { type: 'string' },
    },
  });
  if (values.url === undefined) {
    process.stderr.write(
      'usage: fleet --url ws://host:port/path [--count N] [--prefix P] [--sample-s S] [--data DIR] [--tick-ms MS] [--threads T]\n',
    );
    process.exit(2);
  }
  const settings: Settings = {
    url: values.url,
    prefix: values.prefix as string,
    sampleS: values['sample-s'] as string,
    data: values.data as string,
    tickMs: Number(values['tick-ms']),
  };
  const count = Number(values.count);
  const threads = Math.max(1, Math.min(Number(values.threads ?? Math.min(availableParallelism(), Math.ceil(count / 500))), count));
  const rssMb = (): number => Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;
  const report = (fields: Record<string, unknown>): void =>
    void process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);

  report({ event: 'starting', count, rssMb: rssMb() });
  const baselineMb = rssMb();
  /** Memory the boxes added (their threads with them), per box. */
  const perBoxKb = (): number => (count > 0 ? Math.round(((rssMb() - baselineMb) * 1024) / count) : 0);
  const startCpu = process.cpuUsage();
  const counts = new Map<Worker, WorkerStatus>();
  const workers: Worker[] = [];
  const started: Array<Promise<void>> = [];
  const group = Math.max(1, Math.floor(START_GROUP / threads));
  for (let t = 0, first = 1; t < threads; t++) {
    const share = Math.floor(count / threads) + (t < count % threads ? 1 : 0);
    const worker = new Worker(new URL(import.meta.url), { workerData: { settings, first, count: share, group } satisfies Share });
    first += share;
    workers.push(worker);
    counts.set(worker, { online: 0, charging: 0, heapMb: 0, heapUsedMb: 0 });
    worker.on('error', (err) => {
      process.stderr.write(`fleet worker failed: ${err.stack ?? String(err)}\n`);
      process.exit(1);
    });
    started.push(
      new Promise((resolve) =>
        worker.on('message', (message: WorkerMessage) => {
          if (message.kind === 'started') resolve();
          if (message.kind === 'status') counts.set(worker, message);
        }),
      ),
    );
  }
  await Promise.all(started);
  // CPU time of the process (every thread) per box while the boxes started.
  const startCpuMs = ((cpu) => (cpu.user + cpu.system) / 1000)(process.cpuUsage(startCpu));
  report({
    event: 'started',
    count,
    rssMb: rssMb(),
    perBoxKb: perBoxKb(),
    startCpuMsPerBox: Math.round((startCpuMs / Math.max(count, 1)) * 10) / 10,
  });

  let lastCpu = process.cpuUsage();
  let lastMs = performance.now();
  const status = setInterval(() => {
    const nowMs = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    // CPU time of the process (every thread) since the last line, in % of one core.
    const cpuPct = Math.round(((cpu.user + cpu.system) / 10 / (nowMs - lastMs)) * 10) / 10;
    lastCpu = process.cpuUsage();
    lastMs = nowMs;
    let online = 0;
    let charging = 0;
    let heapMb = 0;
    let heapUsedMb = 0;
    for (const c of counts.values()) {
      online += c.online;
      charging += c.charging;
      heapMb += c.heapMb;
      heapUsedMb += c.heapUsedMb;
    }
    // heapMb: the workers' JavaScript heaps as V8 holds them; heapUsedMb: what is in use. V8 sizes
    // a busy worker's heap for speed: at 2,000 boxes 2 × 247 MB held for 2 × 60-80 MB in use. A
    // smaller heap costs CPU that 2,000 boxes on two cores do not have: V8 run with
    // --heap-growing-percent=30 and workers' young generation at 16 MB took the fleet from 246 to
    // 131 kB a box, and 2,000 boxes were then up to 1.4 s late (issue 21's note).
    const heap = { heapMb: Math.round(heapMb), heapUsedMb: Math.round(heapUsedMb) };
    report({ event: 'status', count, online, charging, rssMb: rssMb(), perBoxKb: perBoxKb(), ...heap, cpuPct });
  }, STATUS_EVERY_MS);

  process.once('SIGTERM', () => {
    clearInterval(status);
    const stopped = workers.map(
      (worker) => new Promise<void>((resolve) => worker.on('message', (message: WorkerMessage) => message.kind === 'stopped' && resolve())),
    );
    for (const worker of workers) worker.postMessage('stop');
    void Promise.all(stopped).then(() => {
      report({ event: 'stopped', count });
      process.exit(0);
    });
  });
}

async function runWorker(share: Share): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('fleet worker without a parent');
  const { settings } = share;
  const log = createLogger({ level: 'error' });
  const boxes: Array<{ readonly firmware: Firmware; readonly plant: SimPlant }> = [];

  const createBox = (index: number): (typeof boxes)[number] => {
    const chargeBoxId = `${settings.prefix}${index}`;
    const dataDir = join(settings.data, chargeBoxId);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'ocpp-configuration.json'), JSON.stringify({ MeterValueSampleInterval: settings.sampleS }));
    const config = parseConfig({
      dataDir,
      modbus: { tcp: null },
      ocpp: { url: settings.url, chargeBoxId, password: '', fixedIdTag: 'FLEET' },
    });
    const plant = new SimPlant({ clock: systemClock, wiredPhases: config.evse.phases, voltageV: config.evse.voltageV });
    const firmware = new Firmware({
      config,
      hal: createSimHal(plant, null),
      clock: systemClock,
      log,
      tickMs: settings.tickMs,
      bootId: 'fleet',
    });
    return { firmware, plant };
  };

  // Started in small groups: a backend must not see a thousand handshakes in the same millisecond.
  // The boxes of a group start side by side: a box's start is mostly waiting on its state files.
  const last = share.first + share.count;
  for (let first = share.first; first < last; first += share.group) {
    const group = Array.from({ length: Math.min(share.group, last - first) }, (_, k) => createBox(first + k));
    boxes.push(...group);
    await Promise.all(group.map((box) => box.firmware.start()));
    for (const box of group) setTimeout(() => box.plant.configureEv({ state: 'C' }), 1000 + Math.random() * 10_000).unref();
    await new Promise((resolve) => setTimeout(resolve, START_PAUSE_MS));
  }
  const post = (message: WorkerMessage): void => port.postMessage(message);
  post({ kind: 'started' });
  const counting = setInterval(() => {
    const online = boxes.filter((b) => b.firmware.chargePoint?.online).length;
    const charging = boxes.filter((b) => b.plant.contactorCommanded).length;
    const heap = getHeapStatistics();
    post({ kind: 'status', online, charging, heapMb: heap.total_heap_size / 1048576, heapUsedMb: heap.used_heap_size / 1048576 });
  }, COUNT_EVERY_MS);
  port.on('message', (message) => {
    if (message !== 'stop') return;
    clearInterval(counting);
    void Promise.all(boxes.map((b) => b.firmware.stop())).then(() => {
      post({ kind: 'stopped' });
      port.close();
    });
  });
}

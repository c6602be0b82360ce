// The protocol side of the firmware, in its own worker thread (dist/protocol-worker.mjs): Modbus
// TCP/RTU, OCPP, the web page and API, on the charging core of the main thread reached through its
// port. main.ts starts it; README "Process structure" says why the boundary runs here.
import { writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../hal/clock.js';
import type { RfidReader } from '../hal/rfid-reader.js';
import type { Rs485Port, Rs485Settings } from '../hal/rs485-port.js';
import { ChargingPortProxy } from './charging/port-proxy.js';
import { ConfigOverlay } from './config-overlay.js';
import { loadConfigFile } from './config.js';
import { LogFile } from './diagnostics/log-file.js';
import { endpoints, Firmware } from './firmware.js';
import { WebInterface } from './http/server.js';
import { createLogger, type Logger } from './log.js';
import type { FromWorker, ProtocolWorkerData, TestHook, ToWorker } from './protocol-link.js';
import { HEALTH_PERIOD_MS } from './update/health.js';
import { PUBLIC_KEY_FILE } from './update/signed-image.js';
import { lowerProtocolPriority } from './thread-priority.js';

/**
 * Run by the launcher from an installed image: the install folder and the key updates must be
 * signed with (in this version's slot). Undefined when run from a checkout (npm start, most tests).
 */
async function installedImage(log: Logger): Promise<{ dir: string; publicKeyPem: string | null } | undefined> {
  const dir = process.env['WALLBOX_INSTALL_DIR'];
  const slot = process.env['WALLBOX_SLOT'];
  if (!dir || !slot) return undefined;
  const keyPath = join(dir, 'slots', slot, PUBLIC_KEY_FILE);
  const publicKeyPem = await readFile(keyPath, 'utf8').catch(() => null);
  if (publicKeyPem === null) log.error('no update key in the installed image: every update will be refused', { path: keyPath });
  return { dir, publicKeyPem };
}

/** The board's reader stays on the main thread; its cards arrive as messages. */
class ForwardedRfidReader implements RfidReader {
  onCard: ((idTag: string) => void) | null = null;
  close(): void {
    this.onCard = null;
  }
}

/** The RS-485 port stays with the board on the main thread (protocol-link.ts says why); bytes cross as messages. */
class ForwardedRs485Port implements Rs485Port {
  onData: ((bytes: Buffer) => void) | null = null;
  #opened: ((error: string | null) => void) | null = null;

  constructor(
    public settings: Rs485Settings,
    private readonly post: (message: FromWorker) => void,
  ) {}

  open(settings: Rs485Settings = this.settings): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#opened = (error) => {
        if (error !== null) return reject(new Error(`${settings.path}: ${error}`));
        this.settings = settings;
        resolve();
      };
      this.post({ type: 'rs485Open', fileDevice: settings !== this.settings });
    });
  }

  /** The main thread's answer to open(). */
  opened(error: string | null): void {
    this.#opened?.(error);
    this.#opened = null;
  }

  received(bytes: Uint8Array): void {
    this.onData?.(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  write(bytes: Buffer): void {
    this.post({ type: 'rs485Write', bytes });
  }

  async close(): Promise<void> {
    this.onData = null;
  }
}

/** Test-only faults (main.ts WALLBOX_TEST_HOOK): what a stalled, crashed or leaking protocol side looks like. */
function runTestHook(hook: TestHook, log: Logger): void {
  log.warn('test hook', { ...hook });
  switch (hook.hook) {
    case 'block': {
      const until = Date.now() + hook.ms;
      while (Date.now() < until) {
        // busy: the event loop of this thread is blocked, as by a runaway parser
      }
      return;
    }
    case 'hang':
      // blocked without using the CPU, as in a synchronous read that never returns
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, hook.ms);
      return;
    case 'crash':
      setImmediate(() => {
        throw new Error('test hook: the protocol side crashes');
      });
      return;
    case 'oom': {
      // 8 MB arrays of numbers, which the GC marks without looking inside: the heap cap is reached
      // in under a second (small strings took 4 s of GC near the cap for the same end).
      const hoard: number[][] = [];
      const grow = (): void => {
        hoard.push(new Array<number>(1_000_000).fill(hoard.length + 0.5));
        setImmediate(grow);
      };
      grow();
      return;
    }
    default: {
      const never: never = hook;
      throw new Error(`unknown test hook ${JSON.stringify(never)}`);
    }
  }
}

async function run(link: NonNullable<typeof parentPort>, data: ProtocolWorkerData): Promise<void> {
  // Below the control side, whatever arrives from the network (README "Process structure").
  lowerProtocolPriority();
  const post = (message: FromWorker): void => link.postMessage(message);
  let logFile: LogFile | null = null;
  const log = createLogger({
    level: data.logLevel,
    write: (line) => {
      // Straight to fd 1: the main thread's event loop does not carry this side's lines.
      try {
        writeSync(1, line + '\n');
      } catch {
        // stdout gone or full: the line is still kept in the log file below
      }
      logFile?.append(line);
    },
  });
  const fileConfig = await loadConfigFile(data.configPath);
  const overlay = await ConfigOverlay.load(fileConfig, log);
  const { config } = overlay;
  logFile = new LogFile(join(config.dataDir, 'logs'));
  const charging = new ChargingPortProxy({ endpoint: data.port, clock: systemClock, log });
  const rfid = new ForwardedRfidReader();
  const rs485 = data.rs485 === null ? null : new ForwardedRs485Port(data.rs485, post);
  let stopping: Promise<void> | null = null;
  let clockSynced = data.clockSynced;
  let firmware: Firmware | null = null;
  let web: WebInterface | null = null;
  const stop = async (): Promise<void> => {
    await firmware?.stop();
    await web?.stop();
    charging.close();
    await logFile?.close();
    post({ type: 'stopped' });
  };
  link.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'card':
        rfid.onCard?.(message.idTag);
        return;
      case 'log':
        logFile?.append(message.line);
        return;
      case 'rs485Data':
        rs485?.received(message.bytes);
        return;
      case 'rs485Opened':
        rs485?.opened(message.error);
        return;
      case 'clockSynced':
        clockSynced = message.synced;
        return;
      case 'checkUpdateResult':
        void firmware?.updates.checkResult();
        return;
      case 'stop':
        stopping ??= stop();
        return;
      case 'testHook':
        runTestHook(message, log);
        return;
      default: {
        const never: never = message;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  });
  await charging.ready;
  const install = await installedImage(log);
  firmware = new Firmware({
    config,
    fileConfig,
    core: { charging, rfid, rs485, meterSigns: data.meterSigns },
    clockSynced: () => clockSynced,
    clock: systemClock,
    log,
    overlay,
    serialNumber: data.serialNumber,
    logFile,
    restart: () => post({ type: 'restart' }),
    ...(install && { install }),
  });
  // The bundle's neighbour dist/web/ (build.mjs puts the page there).
  web =
    config.http === null
      ? null
      : new WebInterface({ firmware, overlay, clock: systemClock, log, webRoot: fileURLToPath(new URL('./web/', import.meta.url)) });
  // Before the firmware starts, so that transactions closed at boot reach the history.
  await web?.prepare();
  await firmware.start();
  // An overlay value that cannot be bound falls back to the config file's (CONTRACT §2: the file is the installer's).
  if (config.http !== null) await web?.start(endpoints(config.http, fileConfig.http));
  const started = firmware;
  const reportHealth = (): void => {
    const { modbus, ocpp } = started.health();
    post({ type: 'health', modbus, ocpp });
  };
  reportHealth();
  setInterval(reportHealth, HEALTH_PERIOD_MS).unref();
  post({ type: 'started' });
}

if (parentPort === null) throw new Error('protocol-worker runs in a worker thread started by the firmware (main.ts)');
// An error here ends the worker with it; the main thread logs it and restarts the worker.
await run(parentPort, workerData as ProtocolWorkerData);

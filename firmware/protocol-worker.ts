// The protocol side of the firmware, in its own worker thread (dist/protocol-worker.mjs): Modbus
// TCP/RTU, OCPP, the web page and API, on the charging core of the main thread reached through its
// port. main.ts starts it; README "Process structure" says why the boundary runs here.
import { writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../hal/clock.js';
import { SerialRs485Port } from '../hal/linux/rs485-port.js';
import type { RfidReader } from '../hal/rfid-reader.js';
import { ChargingPortProxy } from './charging/port-proxy.js';
import { ConfigOverlay } from './config-overlay.js';
import { loadConfigFile } from './config.js';
import { LogFile } from './diagnostics/log-file.js';
import { Firmware } from './firmware.js';
import { WebInterface } from './http/server.js';
import { createLogger, type Logger } from './log.js';
import type { FromWorker, ProtocolWorkerData, TestHook, ToWorker } from './protocol-link.js';
import { HEALTH_PERIOD_MS } from './update/health.js';
import { PUBLIC_KEY_FILE } from './update/signed-image.js';

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
    case 'crash':
      setImmediate(() => {
        throw new Error('test hook: the protocol side crashes');
      });
      return;
    case 'oom': {
      const hoard: string[][] = [];
      const grow = (): void => {
        hoard.push(Array.from({ length: 100_000 }, (_, i) => `leak ${i} ${hoard.length}`));
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
  const rs485 = config.modbus.rtu ? new SerialRs485Port(config.modbus.rtu) : null;
  let stopping: Promise<void> | null = null;
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
    core: { charging, rfid, rs485 },
    clock: systemClock,
    log,
    overlay,
    serialNumber: data.serialNumber,
    logFile,
    restart: () => post({ type: 'restart' }),
    ...(install && { install }),
  });
  // The bundle's neighbour dist/web/ (build.mjs puts the page there).
  web = config.http === null ? null : new WebInterface({ firmware, overlay, clock: systemClock, log, webRoot: fileURLToPath(new URL('./web/', import.meta.url)) });
  // Before the firmware starts, so that transactions closed at boot reach the history.
  await web?.prepare();
  await firmware.start();
  if (config.http !== null) await web?.start(config.http.host, config.http.port);
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

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { boardFactory, boardNames, type Board } from '../board/index.js';
import { systemClock } from '../hal/clock.js';
import { CONTROL_STALL_MS, EXIT_FAILURE, forceOutputsSafe, watchControlLoop } from './charging/control-watch.js';
import { ChargingController } from './charging/controller.js';
import { ChargingPortHost } from './charging/port-host.js';
import { ConfigOverlay } from './config-overlay.js';
import { ConfigError, loadConfigFile } from './config.js';
import { FaultLog } from './safety/fault-log.js';
import { createLogger, LOG_LEVELS, type LogLevel, type Logger } from './log.js';
import { ProtocolWorker, type TestHook } from './protocol-link.js';
import { readBootId, writeRunState } from './store/run-state.js';
import { raiseControlPriority } from './thread-priority.js';
import { linkToLauncher } from './update/launcher-link.js';
import { FIRMWARE_VERSION } from './version.js';

// The control side of the firmware, on the main thread: the board, the charging core and the
// hardware watchdog feed. The protocol side (Modbus, OCPP, HTTP) runs in the worker thread of
// protocol-worker.ts, started from here; README "Process structure" says why.

/** Exit codes of CONTRACT §1 (EXIT_FAILURE: control-watch.ts). */
const EXIT_OK = 0;
const EXIT_USAGE = 2;

/** A problem with the command line or the config: one line on stderr, exit 2. */
class UsageError extends Error {}

function logLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === '') return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new UsageError(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}`);
}

/**
 * WALLBOX_TEST_HOOK (tests only): a comma-separated list of `block:MS`, `hang:MS`, `crash`, `oom`; each
 * SIGUSR2 does the next one to the protocol side (the last one repeats). Unset on a real box.
 */
function testHooks(value: string | undefined): TestHook[] {
  if (value === undefined || value === '') return [];
  return value.split(',').map((item): TestHook => {
    if (item === 'crash' || item === 'oom') return { hook: item };
    const block = /^(block|hang):(\d+)$/.exec(item);
    if (block !== null) return { hook: block[1] === 'hang' ? 'hang' : 'block', ms: Number(block[2]) };
    throw new UsageError('WALLBOX_TEST_HOOK: a comma-separated list of block:MS, hang:MS, crash, oom');
  });
}

/** Resolves with the reason to stop: a signal, or a restart into a new firmware version. */
function waitForStop(): { readonly stopped: Promise<string>; restart(): void } {
  let restart = (): void => {};
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (signal: string): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    restart = () => resolve('restart into a new firmware version');
  });
  return { stopped, restart };
}

let board: Board | null = null;

/** On a crash the relays must not stay as they were: open the contactor, stop the pilot, exit non-zero. */
function failSafe(log: Logger, msg: string, err: unknown): never {
  log.error(msg, { err });
  try {
    if (board !== null) forceOutputsSafe(board.hal);
  } finally {
    process.exit(EXIT_FAILURE);
  }
}

/**
 * The clean-stop marker when the protocol side could not write it (its worker was down or did not
 * stop in time at SIGTERM): the same state.json record its Firmware.stop writes, so that the next
 * start does not report an unclean stop. A transaction the worker left open is in its journal and
 * is closed at the next start as after any restart of the process.
 */
async function markCleanStop(dataDir: string, controller: ChargingController, log: Logger): Promise<void> {
  const meter = controller.status().meter;
  await writeRunState(
    dataDir,
    { bootId: await readBootId(), cleanStop: true, stoppedAt: new Date().toISOString(), energyWh: meter?.energyWh ?? null },
    log,
  );
  log.warn('the protocol side could not stop cleanly: the control side wrote the clean-stop marker');
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { config: { type: 'string' } }, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(`usage: firmware [--config FILE]: ${(err as Error).message}`);
  }
  const level = logLevel(process.env['LOG_LEVEL']);
  const hooks = testHooks(process.env['WALLBOX_TEST_HOOK']);
  let protocol: ProtocolWorker | null = null;
  const log = createLogger({
    level,
    write: (line) => {
      process.stdout.write(line + '\n');
      protocol?.logLine(line);
    },
  });
  const fileConfig = await loadConfigFile(args.values.config);
  const factory = boardFactory(fileConfig.board);
  if (!factory) throw new ConfigError('board', `no board named "${fileConfig.board}" (known: ${boardNames.join(', ')})`);
  const { config } = await ConfigOverlay.load(fileConfig, log);

  process.on('uncaughtException', (err) => failSafe(log, 'firmware crashed', err));
  process.on('unhandledRejection', (err) => failSafe(log, 'firmware crashed', err));

  raiseControlPriority(log);
  board = await factory({ config, clock: systemClock, log });
  const faultLog = await FaultLog.load(config.dataDir, log);
  const controller = new ChargingController({
    hal: board.hal,
    clock: systemClock,
    log,
    evse: config.evse,
    // 8093's boot value (8081), as the protocol side's Modbus model will set it: a car can charge
    // before that side has loaded, as it could when both ran in one thread.
    modbusLimitA: config.modbus.bootCurrentA ?? config.evse.maxCurrentA,
    ocppConfigured: config.ocpp !== null,
    grid: config.grid && { ...config.grid, voltageV: config.evse.voltageV },
    faultLog,
  });
  const host = new ChargingPortHost({ controller, clock: systemClock, log, modbusFailsafe: config.modbus });
  const stop = waitForStop();
  protocol = new ProtocolWorker({
    script: new URL('./protocol-worker.mjs', import.meta.url),
    host,
    rfid: board.hal.rfid,
    rs485: board.hal.rs485,
    rs485FileSettings: fileConfig.modbus.rtu,
    clock: systemClock,
    log,
    data: {
      configPath: args.values.config,
      logLevel: level,
      serialNumber: board.serialNumber,
      rs485: board.hal.rs485?.settings ?? null,
      meterSigns: board.hal.meter.signing !== undefined,
    },
    clockSynced: board.clockSynced,
    onRestartRequest: stop.restart,
    logDir: join(config.dataDir, 'logs'),
  });
  const worker = protocol;
  if (hooks.length > 0) {
    process.on('SIGUSR2', () => {
      const next = hooks.length > 1 ? hooks.shift() : hooks[0];
      if (next !== undefined) worker.testHook(next);
    });
  }
  // The worker is created before the board starts (issue #21: its modules load meanwhile, on the
  // other core) and gets the charging port once the control loop runs (protocol-link.ts).
  let coreRunning = (): void => {};
  const protocolStarted = worker.start(new Promise<void>((resolve) => (coreRunning = resolve)));
  // A failure of its first start rejects it (a config error, exit 2): awaited below, not unhandled meanwhile.
  protocolStarted.catch(() => {});
  await board.start();
  controller.start();
  const unwatch = watchControlLoop({ clock: systemClock, controller, hal: board.hal, log, exit: (code) => process.exit(code) });
  coreRunning();
  await protocolStarted;
  const unlink = linkToLauncher({
    health: () => ({
      type: 'health',
      version: FIRMWARE_VERSION,
      controlLoop: controller.lastPassMs !== null && Date.now() - controller.lastPassMs < CONTROL_STALL_MS,
      ...worker.health(),
    }),
    checkUpdateResult: () => worker.checkUpdateResult(),
  });
  const signal = await stop.stopped;
  log.info('stopping', { signal });
  unlink();
  // The protocol side first (a running transaction ends with Reboot, state saved), then the core.
  const protocolStopped = await worker.stop();
  host.close();
  unwatch();
  await controller.stop();
  if (!protocolStopped) await markCleanStop(config.dataDir, controller, log);
  await board.stop();
  log.info('firmware stopped by the control side');
  // Lines after the worker's end went to the log file from this thread: the last ones are on disk.
  await worker.closeLog();
  return EXIT_OK;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // The board may be running already (the protocol worker fails after it started): relays off first.
    try {
      if (board !== null) forceOutputsSafe(board.hal);
    } catch {
      // the hardware watchdog drops them when this fails
    }
    // A ConfigError of the protocol worker's first start (a certificate file it cannot read) arrives
    // as a clone of the error: only its name says what it was.
    const configError = err instanceof ConfigError || (err instanceof Error && err.name === 'ConfigError');
    if (err instanceof UsageError || configError) {
      process.stderr.write(`${configError ? 'config: ' : ''}${err.message}\n`);
      process.exit(EXIT_USAGE);
    }
    process.stderr.write(`firmware: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(EXIT_FAILURE);
  },
);

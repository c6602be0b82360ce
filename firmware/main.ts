import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { boardFactory, boardNames, type Board } from '../board/index.js';
import { systemClock } from '../hal/clock.js';
import { ConfigOverlay } from './config-overlay.js';
import { ConfigError, loadConfigFile } from './config.js';
import { Firmware } from './firmware.js';
import { WebInterface } from './http/server.js';
import { FaultLog } from './safety/fault-log.js';
import { createLogger, LOG_LEVELS, type LogLevel, type Logger } from './log.js';

/** Exit codes of CONTRACT §1. */
const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

/** A problem with the command line or the config: one line on stderr, exit 2. */
class UsageError extends Error {}

function logLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === '') return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new UsageError(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}`);
}

function waitForStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** On a crash the relays must not stay as they were: open the contactor, stop the pilot. */
function failSafe(board: Board | null, log: Logger, err: unknown): void {
  log.error('firmware crashed', { err });
  try {
    board?.hal.contactor.setClosed(false);
    board?.hal.pilot.drive({ mode: 'off' });
  } finally {
    process.exit(EXIT_FAILURE);
  }
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { config: { type: 'string' } }, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(`usage: firmware [--config FILE]: ${(err as Error).message}`);
  }
  const log = createLogger({ level: logLevel(process.env['LOG_LEVEL']) });
  const fileConfig = await loadConfigFile(args.values.config);
  const factory = boardFactory(fileConfig.board);
  if (!factory) throw new ConfigError('board', `no board named "${fileConfig.board}" (known: ${boardNames.join(', ')})`);
  const overlay = await ConfigOverlay.load(fileConfig, log);
  const { config } = overlay;

  let board: Board | null = null;
  process.on('uncaughtException', (err) => failSafe(board, log, err));
  process.on('unhandledRejection', (err) => failSafe(board, log, err));

  board = await factory({ config, clock: systemClock, log });
  const faultLog = await FaultLog.load(config.dataDir, log);
  const firmware = new Firmware({ config, hal: board.hal, clock: systemClock, log, faultLog, overlay, serialNumber: board.serialNumber });
  // The bundle's neighbour dist/web/ (build.mjs puts the page there).
  const web = config.http === null ? null : new WebInterface({ firmware, overlay, clock: systemClock, log, webRoot: fileURLToPath(new URL('./web/', import.meta.url)) });
  const stopSignal = waitForStopSignal();
  await board.start();
  // Before the firmware starts, so that transactions closed at boot reach the history.
  await web?.prepare();
  await firmware.start();
  if (config.http !== null) await web?.start(config.http.host, config.http.port);
  const signal = await stopSignal;
  log.info('stopping', { signal });
  await firmware.stop();
  await web?.stop();
  await board.stop();
  return EXIT_OK;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`${err instanceof ConfigError ? 'config: ' : ''}${err.message}\n`);
      process.exit(EXIT_USAGE);
    }
    process.stderr.write(`firmware: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(EXIT_FAILURE);
  },
);

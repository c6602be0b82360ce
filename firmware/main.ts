import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { boardFactory, boardNames, type Board } from '../board/index.js';
import { systemClock } from '../hal/clock.js';
import { ConfigOverlay } from './config-overlay.js';
import { ConfigError, loadConfigFile } from './config.js';
import { endpoints, Firmware } from './firmware.js';
import { WebInterface } from './http/server.js';
import { FaultLog } from './safety/fault-log.js';
import { createLogger, LOG_LEVELS, type LogLevel, type Logger } from './log.js';
import { LogFile } from './diagnostics/log-file.js';
import { linkToLauncher } from './update/launcher-link.js';
import { PUBLIC_KEY_FILE } from './update/signed-image.js';

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
  let logFile: LogFile | null = null;
  const log = createLogger({
    level: logLevel(process.env['LOG_LEVEL']),
    write: (line) => {
      process.stdout.write(line + '\n');
      logFile?.append(line);
    },
  });
  const fileConfig = await loadConfigFile(args.values.config);
  const factory = boardFactory(fileConfig.board);
  if (!factory) throw new ConfigError('board', `no board named "${fileConfig.board}" (known: ${boardNames.join(', ')})`);
  const overlay = await ConfigOverlay.load(fileConfig, log);
  const { config } = overlay;
  logFile = new LogFile(join(config.dataDir, 'logs'));

  let board: Board | null = null;
  process.on('uncaughtException', (err) => failSafe(board, log, err));
  process.on('unhandledRejection', (err) => failSafe(board, log, err));

  board = await factory({ config, clock: systemClock, log });
  const faultLog = await FaultLog.load(config.dataDir, log);
  const stop = waitForStop();
  const install = await installedImage(log);
  const firmware = new Firmware({ config, fileConfig, hal: board.hal, clock: systemClock, log, faultLog, overlay, serialNumber: board.serialNumber, logFile, restart: stop.restart, ...(install && { install }) });
  // The bundle's neighbour dist/web/ (build.mjs puts the page there).
  const web = config.http === null ? null : new WebInterface({ firmware, overlay, clock: systemClock, log, webRoot: fileURLToPath(new URL('./web/', import.meta.url)) });
  await board.start();
  // Before the firmware starts, so that transactions closed at boot reach the history.
  await web?.prepare();
  await firmware.start();
  // An overlay value that cannot be bound falls back to the config file's (CONTRACT §2: the file is the installer's).
  if (config.http !== null) await web?.start(endpoints(config.http, fileConfig.http));
  const unlink = linkToLauncher(firmware);
  const signal = await stop.stopped;
  log.info('stopping', { signal });
  unlink();
  await firmware.stop();
  await web?.stop();
  await board.stop();
  await logFile.close();
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

import { open } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Clock } from '../hal/clock.js';
import { ConfigError, type Config } from './config.js';
import type { Logger } from './log.js';

type Endpoint = { readonly host: string; readonly port: number };

const ANY_HOST = new Set(['0.0.0.0', '::', '']);

/** Whether two listeners would take the same port (port 0 takes a free one, never a conflict). */
function overlaps(a: Endpoint, b: Endpoint): boolean {
  return a.port !== 0 && a.port === b.port && (a.host === b.host || ANY_HOST.has(a.host) || ANY_HOST.has(b.host));
}

/**
 * Binds `endpoint` for a moment; the ConfigError names `key`.host or `key`.port by the cause. The
 * port the box listens on now (`running`) is its own: then only the host is tried.
 */
async function tryListen(key: string, endpoint: Endpoint, running: Endpoint | null): Promise<void> {
  const server = createServer();
  const port = running !== null && running.port === endpoint.port ? 0 : endpoint.port;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, endpoint.host, () => resolve());
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new ConfigError(`${key}.port`, `${endpoint.port} is in use on ${endpoint.host}`);
    if (err.code === 'EACCES') throw new ConfigError(`${key}.port`, `${endpoint.port} needs privileges the firmware does not have`);
    throw new ConfigError(`${key}.host`, `${endpoint.host} is not an address of this box (${err.code ?? err.message})`);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * A config change must not brick the box (a next start without Modbus, web or OCPP): the
 * interfaces of `next` that differ from `running` (what the box uses now) are tried before the
 * change is kept: the listeners bound for a moment, the RS-485 device opened. Throws a
 * ConfigError naming the key.
 */
export async function tryInterfaces(next: Config, running: Config): Promise<void> {
  const http = next.http;
  const tcp = next.modbus.tcp;
  if (http !== null && tcp !== null && overlaps(http, tcp)) throw new ConfigError('http.port', `${http.port} is modbus.tcp's port`);
  if (http !== null && overlaps(http, { host: '127.0.0.1', port: next.sim.controlPort }))
    throw new ConfigError('http.port', `${http.port} is sim.controlPort`);
  if (tcp !== null && overlaps(tcp, { host: '127.0.0.1', port: next.sim.controlPort }))
    throw new ConfigError('modbus.tcp.port', `${tcp.port} is sim.controlPort`);
  if (http !== null && !sameEndpoint(http, running.http)) await tryListen('http', http, running.http);
  if (tcp !== null && !sameEndpoint(tcp, running.modbus.tcp)) await tryListen('modbus.tcp', tcp, running.modbus.tcp);
  const rtu = next.modbus.rtu;
  if (rtu !== null && rtu.path !== running.modbus.rtu?.path) {
    const device = await open(rtu.path, 'r+').catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError('modbus.rtu.path', `cannot open ${rtu.path} (${err.code ?? err.message})`);
    });
    await device.close();
  }
}

function sameEndpoint(a: Endpoint, b: Endpoint | null): boolean {
  return b !== null && a.host === b.host && a.port === b.port;
}

/** First retry after a failed start of an interface, doubled up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;

/**
 * Brings an interface up without letting it stop the rest: `attempts` are tried in order (the
 * configured value, then the config file's where the run-time overlay changed it) until one
 * works; when none does, the failure is logged at error and all are tried again after 1 s,
 * doubling to 60 s. Resolves after the first round, whatever its outcome; `stop()` ends the retries.
 */
export function keepTrying(
  name: string,
  attempts: ReadonlyArray<() => Promise<void>>,
  clock: Clock,
  log: Logger,
): { readonly firstRound: Promise<void>; stop(): void } {
  let stopped = false;
  let timer: ReturnType<Clock['setTimeout']> | null = null;
  const round = async (delayMs: number): Promise<void> => {
    const reasons: string[] = [];
    for (const attempt of attempts) {
      try {
        await attempt();
        // Up on a fallback (the config file's value) or after retries: the failures are worth an installer's look.
        if (reasons.length > 0) log.error(`${name} up on the config file's value: the run-time value failed`, { reasons });
        else if (delayMs > RETRY_FIRST_MS) log.warn(`${name} up after retries`);
        return;
      } catch (err) {
        reasons.push((err as Error).message);
      }
    }
    if (stopped) return;
    log.error(`${name} failed to start; retrying`, { reasons, retryInMs: delayMs });
    timer = clock.setTimeout(() => void round(Math.min(delayMs * 2, RETRY_MAX_MS)), delayMs);
  };
  return {
    firstRound: round(RETRY_FIRST_MS),
    stop() {
      stopped = true;
      if (timer !== null) clock.clearTimeout(timer);
    },
  };
}

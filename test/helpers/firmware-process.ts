import { type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { spawnReaped } from './child-reaping.js';
import { WatchedList } from './watched-list.js';

const BUNDLE = new URL('../../dist/firmware.mjs', import.meta.url).pathname;
/** The built installer tool `dist/tools/<name>.mjs`. */
export const toolBundle = (name: string): string => new URL(`../../dist/tools/${name}.mjs`, import.meta.url).pathname;

export interface FirmwareProcess {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  /** Resolves with the first log line (past or future) that `match` accepts; rejects after `timeoutMs`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, resolved once the process is gone (so its dataDir can be removed). */
  kill(): Promise<void>;
}

/** Runs the built firmware (`dist/firmware.mjs`) with `config` written into `dir`, `env` added to the environment. */
export function startFirmware(dir: string, config: unknown, env: Record<string, string> = {}): FirmwareProcess {
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  return startLoggedProcess(BUNDLE, ['--config', configFile], dir, env);
}

/**
 * Runs a Node script whose stdout is JSON lines (the firmware, or the launcher of an installed
 * image with the firmware's lines passing through) and collects the lines.
 */
export function startLoggedProcess(
  script: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  nodeFlags: string[] = [],
): FirmwareProcess {
  const child = spawnReaped(process.execPath, [...nodeFlags, script, ...args], {
    cwd,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = new WatchedList<Record<string, unknown>>();
  const logs = lines.items;
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  // 'close' comes once the child's stdout and stderr have ended, so every line it wrote is in `logs`;
  // 'exit' can come before the last of them has been read (Node's child_process docs). Bounded:
  // the firmware a launcher starts holds the same pipes and may outlive the launcher.
  const closed = once(child, 'close').catch(() => undefined);
  return {
    child,
    logs,
    waitForLog(match, timeoutMs = 10_000) {
      return lines.waitFor(
        (items) => items.find(match),
        timeoutMs,
        () => `no matching log line within ${timeoutMs} ms; saw: ${JSON.stringify(logs)}`,
      );
    },
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      return code;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * The firmware with Modbus RTU on the tty `rtuPath` (the slave end of a socat pair) at
 * `baudRate`, no TCP unless `modbus` adds it, the sim control API on any free port.
 */
export function startRtuFirmware(dir: string, rtuPath: string, baudRate: number, modbus: Record<string, unknown> = {}): FirmwareProcess {
  return startFirmware(dir, {
    dataDir: join(dir, 'data'),
    sim: { controlPort: 0 },
    http: null,
    modbus: { tcp: null, ...modbus, rtu: { path: rtuPath, baudRate } },
  });
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function runToExit(script: string, args: string[], cwd: string, stdin?: string): Promise<RunResult> {
  const child = spawnReaped(process.execPath, [script, ...args], { cwd, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (stdin !== undefined) child.stdin!.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  // 'close' waits for stdout and stderr to end; on 'exit' a config error's one stderr line was once still unread.
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Runs the built firmware to its exit with `args`. */
export function runFirmware(args: string[], cwd: string): Promise<RunResult> {
  return runToExit(BUNDLE, args, cwd);
}

/** Runs a built installer tool (`dist/tools/<tool>.mjs`, faults unless told) to its exit, with `stdin` as its input. */
export function runTool(args: string[], cwd: string, options: { tool?: string; stdin?: string } = {}): Promise<RunResult> {
  return runToExit(toolBundle(options.tool ?? 'faults'), args, cwd, options.stdin);
}

/** Polls `probe` until it returns a value `accept` takes; the firmware is a separate process, so there is no event to await. */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface RunningBox {
  readonly fw: FirmwareProcess;
  readonly modbusPort: number;
  readonly simPort: number;
  /** Port of the HTTP API and web page; null unless `extra.http` enabled it (port 0: any free port). */
  readonly httpPort: number | null;
  /** GET /sim */
  sim(): Promise<Record<string, any>>;
  /** POST to the simulator control API. */
  simPost(path: string, body: unknown): Promise<Response>;
}

/**
 * The built firmware with Modbus TCP and the simulator API on free loopback ports, `dataDir`
 * under `dir`. `extra` is merged over that config (one level deep for `modbus`).
 */
export async function startBox(dir: string, extra: Record<string, any> = {}, env: Record<string, string> = {}): Promise<RunningBox> {
  const config: Record<string, any> = {
    dataDir: join(dir, 'data'),
    sim: { controlPort: 0 },
    http: null,
    ...extra,
    modbus: { tcp: { host: '127.0.0.1', port: 0 }, ...(extra['modbus'] ?? {}) },
  };
  const fw = startFirmware(dir, config, env);
  const sim = await fw.waitForLog((l) => l['msg'] === 'simulator control API listening');
  const modbus = await fw.waitForLog((l) => l['msg'] === 'Modbus TCP listening');
  const http = config.http === null ? null : await fw.waitForLog((l) => l['msg'] === 'HTTP API listening');
  const simBase = `http://127.0.0.1:${String(sim['port'])}`;
  return {
    fw,
    modbusPort: Number(modbus['port']),
    simPort: Number(sim['port']),
    httpPort: http === null ? null : Number(http['port']),
    sim: async () => (await (await fetch(`${simBase}/sim`)).json()) as Record<string, any>,
    simPost: (path, body) => fetch(`${simBase}${path}`, { method: 'POST', body: JSON.stringify(body) }),
  };
}

/**
 * `startBox` inside a subtest: the firmware is killed (and awaited) in a teardown registered
 * before the test's folder, so the folder is never removed under a running firmware.
 */
export async function startBoxFor(
  t: { teardown(fn: () => unknown): void; testdir(): string },
  extra: Record<string, any> = {},
  env: Record<string, string> = {},
): Promise<RunningBox> {
  let box: RunningBox | null = null;
  t.teardown(() => box?.fw.kill());
  box = await startBox(t.testdir(), extra, env);
  return box;
}

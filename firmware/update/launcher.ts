import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config.js';
import { createLogger } from '../log.js';
import { isHealthReport, type HealthReport } from './health.js';
import { InstallDir, type TrialState } from './install-dir.js';

/**
 * The launcher: what systemd starts (`node /opt/wallbox/good/launcher.mjs --install-dir
 * /opt/wallbox --config /etc/wallbox/config.json`). It runs the firmware of the `current` slot as
 * its child, restarts it when it exits, and gives a newly switched-to version its trial: healthy
 * within `--health-timeout-s` (control loop running, Modbus listening, OCPP Boot Accepted when the
 * backend is reachable) and it is committed as `good`; it exits, hangs or stays unhealthy, or the
 * box restarted during the trial more than `--max-attempts` times, and `current` goes back to the
 * version it replaced. It is started from the `good` slot, so the code that decides is always a
 * version that once proved healthy. The tests start it exactly like this, in place of systemd.
 */

const args = parseArgs({
  options: {
    'install-dir': { type: 'string' },
    config: { type: 'string' },
    'health-timeout-s': { type: 'string', default: '120' },
    'max-attempts': { type: 'string', default: '2' },
  },
  strict: true,
});

const log = createLogger({ level: 'info', fields: { module: 'launcher' } });
const installDirPath = args.values['install-dir'];
const configPath = args.values.config;
const healthTimeoutMs = Number(args.values['health-timeout-s']) * 1000;
const maxAttempts = Number(args.values['max-attempts']);
if (installDirPath === undefined || configPath === undefined || !(healthTimeoutMs > 0) || !(maxAttempts >= 1)) {
  process.stderr.write('usage: launcher --install-dir DIR --config FILE [--health-timeout-s 120] [--max-attempts 2]\n');
  process.exit(2);
}
const dir = new InstallDir(resolve(installDirPath), log);
/** A child that ran this long was not crash-looping: the restart delay starts again at its minimum. */
const STABLE_RUN_MS = 10_000;
const KILL_GRACE_MS = 10_000;

let stopping = false;
let child: ChildProcess | null = null;
let wakeUp: (() => void) | null = null;

function onStopSignal(signal: NodeJS.Signals): void {
  log.info('launcher stopping', { signal });
  stopping = true;
  child?.kill('SIGTERM');
  wakeUp?.();
}
process.on('SIGTERM', onStopSignal);
process.on('SIGINT', onStopSignal);

function delay(ms: number): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    wakeUp = () => {
      clearTimeout(timer);
      done();
    };
  });
}

/** The OCPP central system's host and port, or null without OCPP (read on every trial: the config may change). */
async function backendAddress(): Promise<{ host: string; port: number } | null> {
  try {
    const { ocpp } = await loadConfigFile(configPath);
    if (ocpp === null) return null;
    const url = new URL(ocpp.url);
    return { host: url.hostname, port: Number(url.port || (url.protocol === 'wss:' ? 443 : 80)) };
  } catch {
    return null;
  }
}

/** Whether a TCP connection to the backend opens within 2 s: if it does, a healthy version must have its OCPP link up. */
function reachable(address: { host: string; port: number }): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(address);
    socket.setTimeout(2000);
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.once('connect', () => finish(true));
    socket.once('timeout', () => finish(false));
    socket.once('error', () => finish(false));
  });
}

/** The trial's verdict on one report: the version switched to, its loop and Modbus up, and OCPP up unless the backend cannot be reached. */
async function healthy(report: HealthReport, version: string, backend: { host: string; port: number } | null): Promise<boolean> {
  if (report.version !== version || !report.controlLoop || !report.modbus) return false;
  if (report.ocpp !== 'offline' || backend === null) return true;
  return !(await reachable(backend));
}

/** A trial left by the running firmware: counted, or ended when it ran out of starts or the switch never happened. */
async function trialForThisStart(): Promise<TrialState | null> {
  const trial = await dir.readTrial();
  if (trial === null) return null;
  const now = new Date().toISOString();
  if ((await dir.pointer('current')) !== trial.toSlot) {
    await dir.rollBack(trial, 'the switch to the new slot did not complete', now);
    return null;
  }
  if (trial.attempts >= maxAttempts) {
    log.error('update rolled back: the new version did not come up healthy', { version: trial.version, attempts: trial.attempts });
    await dir.rollBack(trial, `not healthy after ${trial.attempts} starts`, now);
    return null;
  }
  const counted = { ...trial, attempts: trial.attempts + 1 };
  await dir.writeTrial(counted);
  return counted;
}

type TrialOutcome = 'none' | 'committed' | 'rolledBack';

/** Runs the current slot's firmware once; resolves with its exit code, how long it ran and what became of a trial. */
async function runOnce(trial: TrialState | null): Promise<{ code: number | null; ranMs: number; outcome: TrialOutcome }> {
  const slot = await dir.pointer('current');
  if (slot === null) throw new Error(`no current slot in ${dir.root}`);
  const startedMs = Date.now();
  log.info('starting firmware', { slot, ...(trial !== null && { trial: trial.version, attempt: trial.attempts }) });
  const proc = fork(join(dir.slotDir(slot), 'firmware.mjs'), ['--config', resolve(configPath as string)], {
    env: { ...process.env, WALLBOX_INSTALL_DIR: dir.root, WALLBOX_SLOT: slot },
    // The unit's Node flags (the heap cap, --max-old-space-size) apply to the firmware, not only to the launcher.
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child = proc;
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  const [code, outcome] = await Promise.all([exited, trial === null ? ('none' as const) : superviseTrial(proc, trial, exited)]);
  child = null;
  return { code, ranMs: Date.now() - startedMs, outcome };
}

/** Watches a trial run: commit on the first healthy report, roll back on the deadline or an early exit. */
async function superviseTrial(proc: ChildProcess, trial: TrialState, exited: Promise<number | null>): Promise<TrialOutcome> {
  const backend = await backendAddress();
  let decided: TrialOutcome = 'none';
  let decision: Promise<void> = Promise.resolve();
  let checking = false;
  /** The first verdict wins; its file writes are awaited before the launcher moves on. */
  const decide = (outcome: 'commit' | string): Promise<void> => {
    if (decided !== 'none') return decision;
    decided = outcome === 'commit' ? 'committed' : 'rolledBack';
    clearTimeout(deadline);
    proc.off('message', onMessage);
    decision = outcome === 'commit' ? commit() : rollBack(outcome);
    return decision;
  };
  const commit = async (): Promise<void> => {
    await dir.commit(trial, new Date().toISOString());
    log.info('update committed: the new version is healthy', { version: trial.version });
    if (proc.connected) proc.send({ type: 'update-result' });
  };
  const rollBack = async (reason: string): Promise<void> => {
    log.error('update rolled back', { version: trial.version, reason });
    await dir.rollBack(trial, reason, new Date().toISOString());
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const killTimer = setTimeout(() => proc.kill('SIGKILL'), KILL_GRACE_MS);
      await exited;
      clearTimeout(killTimer);
    }
  };
  const onMessage = (message: unknown): void => {
    if (!isHealthReport(message) || checking || decided !== 'none') return;
    checking = true;
    void healthy(message, trial.version, backend).then((ok) => {
      checking = false;
      if (ok) void decide('commit');
    });
  };
  const deadline = setTimeout(() => void decide(`not healthy within ${healthTimeoutMs / 1000} s`), healthTimeoutMs);
  proc.on('message', onMessage);
  const code = await exited;
  clearTimeout(deadline);
  if (!stopping) await decide(`exited with code ${String(code)} before it was healthy`);
  await decision;
  return decided;
}

async function main(): Promise<number> {
  let restartDelayMs = 1000;
  for (;;) {
    const trial = await trialForThisStart();
    if (stopping) return 0;
    const { code, ranMs, outcome } = await runOnce(trial);
    if (stopping) return code ?? 0;
    // Exit 0 without a stop signal is the firmware restarting into a new version; after a
    // rollback the old version starts at once. Anything else backs off while it keeps failing.
    const atOnce = code === 0 || outcome === 'rolledBack';
    const delayMs = atOnce ? 0 : ranMs > STABLE_RUN_MS ? 1000 : restartDelayMs;
    restartDelayMs = Math.min(Math.max(delayMs, 1000) * 2, 30_000);
    log.warn('firmware exited; restarting', { code, inMs: delayMs });
    if (delayMs > 0) await delay(delayMs);
    if (stopping) return 0;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // systemd starts the launcher again (Restart=always).
    log.error('launcher failed', { err });
    child?.kill('SIGTERM');
    process.exit(1);
  },
);

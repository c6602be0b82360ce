import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { STALL_RESTART_MS } from '../../firmware/protocol-link.js';
import { pollUntil, startBoxFor, type RunningBox } from '../helpers/firmware-process.js';

/**
 * The control side (main thread) keeps the car safe whatever happens to the protocol side (its
 * worker): README "Process structure". The worker is faulted through the test-only hook
 * WALLBOX_TEST_HOOK, the next of its list at each SIGUSR2.
 */

/**
 * Charging at 32 A. The contactor may close again 1 s after it opened (evse.minOffS, 5 s by
 * default): the cases resume charging up to twice, and the rule is not what they are about.
 */
async function chargingBox(t: Test, modbus: Record<string, unknown>, hook: string): Promise<RunningBox> {
  const box = await startBoxFor(t, { modbus, evse: { minOffS: 1 } }, { WALLBOX_TEST_HOOK: hook });
  await box.fw.waitForLog((l) => l['msg'] === 'protocol side running');
  await box.simPost('/sim/ev', { state: 'C', maxCurrentA: 32 });
  await pollUntil(box.sim, (s) => s['relayClosed'] === true && s['offeredCurrentA'] === 32);
  return box;
}

const count = (box: RunningBox, msg: string): number => box.fw.logs.filter((l) => l['msg'] === msg).length;

t.test(
  'the protocol side runs out of memory, then crashes: each time the control side applies the Modbus failsafe at once, and the worker comes back',
  async (t) => {
    // Failsafe 0 A: the stale rule pauses charging. The Modbus model's own watchdog (60 s) does not fire in this test.
    const box = await chargingBox(t, { timeoutS: 60, failsafeCurrentA: 0 }, 'oom,crash');

    box.fw.child.kill('SIGUSR2');
    // A heap near its cap can collect garbage for seconds before it gives up: the stale rule may come first (silent), else at the end (gone).
    const failed = await box.fw.waitForLog((l) => l['msg'] === 'protocol side failed', 60_000);
    t.equal(failed['code'], 'ERR_WORKER_OUT_OF_MEMORY', 'the worker hit its heap cap; the process lives on');
    // 'failed' comes with the worker's error event, 'gone' with its exit just after (when the stale rule did not come first).
    await box.fw.waitForLog((l) => /^protocol side (silent|gone): its Modbus and OCPP inputs are stale$/.test(String(l['msg'])), 5_000);
    t.pass('its inputs went stale');
    const paused = await pollUntil(box.sim, (s) => s['relayClosed'] === false, 5_000);
    t.match(paused, { pilot: 'x1', offeredCurrentA: 0 }, 'min(failsafe 0 A, last 32 A): PWM withdrawn, contactor opened');

    await box.fw.waitForLog((l) => l['msg'] === 'protocol side running' && count(box, 'protocol side running') === 2, 15_000);
    t.pass('the worker was restarted');
    await pollUntil(box.sim, (s) => s['relayClosed'] === true && s['offeredCurrentA'] === 32, 15_000);
    t.pass('its inputs start as at boot (8093 = the boot limit): charging resumes');

    // The same box now with a plain crash (an uncaught exception in the worker).
    box.fw.child.kill('SIGUSR2');
    await box.fw.waitForLog(
      (l) => l['msg'] === 'protocol side ended; restarting it' && count(box, 'protocol side ended; restarting it') === 2,
      30_000,
    );
    t.ok(
      box.fw.logs.some((l) => l['msg'] === 'protocol side gone: its Modbus and OCPP inputs are stale'),
      'a crash: stale at once',
    );
    t.ok(
      box.fw.logs.some((l) => l['msg'] === 'protocol side ended; restarting it' && l['restartInMs'] === 2000),
      'the second restart backs off to 2 s',
    );
    await pollUntil(box.sim, (s) => s['relayClosed'] === false, 5_000);
    await box.fw.waitForLog((l) => l['msg'] === 'protocol side running' && count(box, 'protocol side running') === 3, 15_000);
    await pollUntil(box.sim, (s) => s['relayClosed'] === true, 15_000);
    t.equal(box.fw.child.exitCode, null, 'the firmware process never ended');
    t.equal(await box.fw.stop(), 0, 'and stops cleanly');
  },
);

t.test(
  'the protocol side blocked for 5 s: the car leaves C and the contactor opens within 20 ms; past 3 s the inputs count as stale',
  async (t) => {
    // No Modbus watchdog: the stale inputs stay frozen, charging goes on at the last limit.
    const box = await chargingBox(t, { timeoutS: 0 }, 'block:5000');
    box.fw.child.kill('SIGUSR2');
    await box.fw.waitForLog((l) => l['msg'] === 'test hook' && l['hook'] === 'block');
    const before = await box.sim();
    t.equal(before['relayClosed'], true, 'still charging with the protocol side blocked');

    const left = (await (await box.simPost('/sim/ev', { state: 'B' })).json()) as Record<string, any>;
    const opened = await pollUntil(box.sim, (s) => s['relayClosed'] === false, 2_000);
    const delayMs = opened['changedAtMs'].contactor - opened['changedAtMs'].ev;
    t.ok(delayMs >= 0 && delayMs <= 20, `contactor opened ${delayMs.toFixed(2)} ms after the car left C`);
    t.ok(left['changedAtMs'].ev > 0);

    const silent = await box.fw.waitForLog((l) => l['msg'] === 'protocol side silent: its Modbus and OCPP inputs are stale', 10_000);
    t.ok(Number(silent['silentMs']) > 3000, `stale after ${String(silent['silentMs'])} ms of silence`);
    t.equal((await box.sim())['offeredCurrentA'], 32, 'no Modbus watchdog configured: the last limit stays (never more)');
    await box.fw.waitForLog((l) => l['msg'] === 'protocol side alive again: its inputs apply', 10_000);
    t.equal(count(box, 'protocol side running'), 1, 'a stall is not a crash: the worker was not restarted');
    await box.simPost('/sim/ev', { state: 'C' });
    await pollUntil(box.sim, (s) => s['relayClosed'] === true, 10_000);
    t.equal(await box.fw.stop(), 0);
  },
);

/** The lines of the box's log file (`dataDir/logs/firmware.log`, the copy GetDiagnostics uploads). */
const logFileLines = (t: Test): Array<Record<string, unknown>> =>
  readFileSync(join(t.testdirName, 'data', 'logs', 'firmware.log'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const runState = (t: Test): Record<string, unknown> =>
  JSON.parse(readFileSync(join(t.testdirName, 'data', 'state.json'), 'utf8')) as Record<string, unknown>;

t.test(
  'a protocol side blocked for good: stale at 3 s, ended after 10 s of silence and restarted with the backoff; charging resumes; the lines after its clean stop reach the log file',
  async (t) => {
    // Failsafe 0 A: the stale rule pauses charging, the new worker's boot value resumes it. Blocked
    // asleep (hang), not busy: for the 10 s the watch takes, a busy loop only burnt a core.
    const box = await chargingBox(t, { timeoutS: 60, failsafeCurrentA: 0 }, 'hang:600000');
    box.fw.child.kill('SIGUSR2');
    await box.fw.waitForLog((l) => l['msg'] === 'test hook' && l['hook'] === 'hang');
    await box.fw.waitForLog((l) => l['msg'] === 'protocol side silent: its Modbus and OCPP inputs are stale', 10_000);
    await pollUntil(box.sim, (s) => s['relayClosed'] === false, 5_000);
    t.pass('stale: min(failsafe 0 A, last 32 A), the contactor opened');
    const stalled = await box.fw.waitForLog((l) => l['msg'] === 'protocol side stalled: ending it', 20_000);
    const silentMs = Number(stalled['silentMs']);
    // Looked at every 250 ms; the rest is this machine's load.
    t.ok(silentMs >= STALL_RESTART_MS && silentMs < STALL_RESTART_MS + 1000, `ended after ${silentMs} ms of silence`);
    const ended = await box.fw.waitForLog((l) => l['msg'] === 'protocol side ended; restarting it', 10_000);
    t.equal(ended['restartInMs'], 1000, 'restarted with the first wait of the backoff');
    await box.fw.waitForLog((l) => l['msg'] === 'protocol side running' && count(box, 'protocol side running') === 2, 20_000);
    await pollUntil(box.sim, (s) => s['relayClosed'] === true && s['offeredCurrentA'] === 32, 15_000);
    t.pass('the new worker runs and charging resumes');
    t.equal(box.fw.child.exitCode, null, 'the firmware process never ended');

    t.equal(await box.fw.stop(), 0);
    t.equal(runState(t)['cleanStop'], true, 'the worker wrote the clean-stop marker');
    t.notOk(box.fw.logs.some((l) => String(l['msg']).startsWith('the protocol side could not stop cleanly')));
    const file = logFileLines(t).map((l) => l['msg']);
    // The control side opens the contactor after the worker has stopped (README "Process structure").
    const workerStopped = file.lastIndexOf('firmware stopped');
    t.ok(workerStopped >= 0, "the worker's last line is in the file");
    t.ok(file.indexOf('contactor opened', workerStopped) > workerStopped, "the control side's lines after it too: the contactor opened");
    t.equal(file.at(-1), 'firmware stopped by the control side', 'down to the last one');
  },
);

t.test(
  'SIGTERM while the protocol side is down: the control side writes the clean-stop marker and its own lines reach the log file',
  async (t) => {
    const box = await chargingBox(t, { timeoutS: 0 }, 'crash');
    // Two crashes: the second restart waits 2 s, time enough for the SIGTERM to arrive meanwhile.
    box.fw.child.kill('SIGUSR2');
    await box.fw.waitForLog((l) => l['msg'] === 'protocol side running' && count(box, 'protocol side running') === 2, 20_000);
    box.fw.child.kill('SIGUSR2');
    await box.fw.waitForLog((l) => l['msg'] === 'protocol side ended; restarting it' && l['restartInMs'] === 2000, 10_000);
    t.equal(runState(t)['cleanStop'], false, 'the running worker had marked the run as not stopped cleanly');
    t.equal(await box.fw.stop(), 0, 'exit 0');
    t.equal(count(box, 'protocol side running'), 2, 'no worker ran at the SIGTERM');
    t.ok(
      box.fw.logs.some((l) => l['msg'] === 'the protocol side could not stop cleanly: the control side wrote the clean-stop marker'),
      'the control side wrote it',
    );
    t.match(runState(t), { cleanStop: true, stoppedAt: String });
    const file = logFileLines(t).map((l) => l['msg']);
    for (const msg of [
      'protocol side ended; restarting it',
      'stopping',
      'contactor opened',
      'the protocol side could not stop cleanly: the control side wrote the clean-stop marker',
    ])
      t.ok(file.lastIndexOf(msg) > file.lastIndexOf('test hook'), `written by the control side after the crash: ${msg}`);
    t.equal(file.at(-1), 'firmware stopped by the control side');
  },
);

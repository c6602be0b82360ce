import t from 'tap';
import { CONTROL_STALL_MS, EXIT_FAILURE, watchControlLoop } from '../../firmware/charging/control-watch.js';
import { createLogger } from '../../firmware/log.js';
import { simRig } from '../helpers/sim-rig.js';

/**
 * The control side fails: every pass of the control loop throws. Each failed pass forces the
 * outputs safe and does not feed the hardware watchdog; the watch (main.ts) ends the process with
 * exit code 1 once no pass has completed for more than CONTROL_STALL_MS, so systemd restarts it.
 * On the simulated clock, with the exit function recorded instead of ending the test.
 */

t.test(
  'every control pass throws: outputs safe at once, the hardware watchdog bites at 1 s, exit 1 at the first look past 1 s',
  async (t) => {
    t.equal(CONTROL_STALL_MS, 1000);
    t.equal(EXIT_FAILURE, 1);
    const rig = simRig({ evse: { minOffS: 0 } });
    const { clock, plant, hal, controller } = rig;
    plant.configureEv({ state: 'C' });
    await rig.waitFor(() => rig.closed(), 5000);
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({
      level: 'info',
      write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
      now: () => clock.now(),
    });
    const exits: Array<{ code: number; atMs: number }> = [];
    const unwatch = watchControlLoop({ clock, controller, hal, log, exit: (code) => void exits.push({ code, atMs: clock.now() }) });
    t.teardown(unwatch);

    clock.advance(5000);
    t.same(exits, [], 'a working loop: no exit');
    t.equal(hal.watchdog.bitten, false);

    hal.pilot.sample = () => {
      throw new Error('ADC driver broken');
    };
    const lastPassMs = controller.lastPassMs as number;
    clock.advance(5); // the next pass throws
    t.equal(plant.contactorCommanded, false, 'the first failed pass opened the contactor');
    t.same(plant.pilot, { mode: 'F' }, 'and drove the pilot to F');
    t.equal(controller.lastPassMs, lastPassMs, 'a pass that throws does not count');

    clock.advanceUntil(() => hal.watchdog.bitten, 2000);
    t.equal(
      clock.now() - lastPassMs,
      hal.watchdog.timeoutMs,
      'no feed since the last good pass: the hardware watchdog bites after its 1 s',
    );
    t.same(exits, [], 'the watch has not looked yet');
    clock.advanceUntil(() => exits.length > 0, 2000);
    const exit = exits[0] as { code: number; atMs: number };
    t.equal(exit.code, 1, 'exit code 1 (systemd restarts the firmware)');
    const silentMs = exit.atMs - lastPassMs;
    t.ok(silentMs > CONTROL_STALL_MS && silentMs <= CONTROL_STALL_MS + CONTROL_STALL_MS / 4, `exit after ${silentMs} ms without a pass`);
    t.match(lines.at(-1), { level: 'error', msg: 'control loop failed: no pass completed', silentMs });
    t.equal(plant.contactorCommanded, false);
    t.equal(plant.pilot.mode, 'off', 'outputs forced safe before the exit');
    clock.advance(5000);
    t.equal(exits.length, 1, 'one exit');
  },
);

t.test('a loop that never completed a first pass counts from the start of the watch', async (t) => {
  const { clock, hal } = simRig();
  const exits: number[] = [];
  const startMs = clock.now();
  const log = createLogger({ write: () => {} });
  const unwatch = watchControlLoop({
    clock,
    controller: { lastPassMs: null },
    hal,
    log,
    exit: () => void exits.push(clock.now() - startMs),
  });
  t.teardown(unwatch);
  clock.advance(CONTROL_STALL_MS);
  t.same(exits, [], `not at ${CONTROL_STALL_MS} ms`);
  clock.advance(CONTROL_STALL_MS / 4);
  t.same(exits, [CONTROL_STALL_MS + CONTROL_STALL_MS / 4], 'at the first look past it');
});

import t from 'tap';
import { DEBOUNCE_FAST_MS, DEBOUNCE_SLOW_MS } from '../../firmware/charging/pilot-reader.js';
import { simRig } from '../helpers/sim-rig.js';

/**
 * The control loop does not wait for its next regular pass when the pilot changes: the HAL's change
 * event makes a pass at once, and the end of the debounce makes another (README "Process
 * structure"). A 50 ms tick shows that the opening time no longer depends on the tick.
 */

const TICK_MS = 50;

async function chargingRig() {
  const rig = simRig({ tickMs: TICK_MS, evse: { minOffS: 0 } });
  rig.plant.configureEv({ state: 'C' });
  await rig.waitFor(() => rig.closed(), 5000);
  return rig;
}

t.test('the car leaves C: the contactor opens exactly the fast debounce (5 ms) after the change, whatever the tick', async (t) => {
  for (const offsetMs of [0, 1, 17, 33, 49]) {
    const rig = await chargingRig();
    rig.clock.advance(offsetMs); // anywhere between two regular passes
    const leftAtMs = rig.clock.now();
    const passes = rig.hal.watchdog.feeds;
    rig.plant.configureEv({ state: 'B' });
    await Promise.resolve(); // the pass the change event asked for runs once the caller is done
    t.equal(rig.hal.watchdog.feeds, passes + 1, `offset ${offsetMs} ms: one pass at once, at the change`);
    t.equal(rig.controller.status().cp, 'C', 'one sample is not enough');
    rig.clock.advance(DEBOUNCE_FAST_MS - 1);
    t.equal(rig.closed(), true, `${DEBOUNCE_FAST_MS - 1} ms after: still closed (debounce)`);
    rig.clock.advance(1);
    t.equal(rig.closed(), false, `offset ${offsetMs} ms: open at ${rig.clock.now() - leftAtMs} ms, the end of the debounce`);
    t.equal(rig.controller.status().cp, 'B');
  }
});

t.test('a flicker shorter than the debounce opens nothing; the debounce pass then changes nothing', async (t) => {
  const rig = await chargingRig();
  rig.plant.configureEv({ state: 'B' });
  await Promise.resolve();
  rig.clock.advance(DEBOUNCE_FAST_MS - 2);
  rig.plant.configureEv({ state: 'C' });
  await Promise.resolve();
  rig.clock.advance(TICK_MS * 2);
  t.equal(rig.closed(), true, 'still charging');
  t.equal(rig.controller.status().cp, 'C');
});

t.test('asking for power is not hastened: B → C still needs the slow debounce (100 ms) before the contactor closes', async (t) => {
  const rig = simRig({ tickMs: TICK_MS, evse: { minOffS: 0 } });
  rig.plant.configureEv({ state: 'B' });
  await rig.waitFor(() => rig.controller.status().cp === 'B' && rig.plant.pilot.mode === 'pwm', 5000);
  rig.clock.advance(TICK_MS / 2 + 3);
  const askedAtMs = rig.clock.now();
  rig.plant.configureEv({ state: 'C' });
  await Promise.resolve();
  rig.clock.advance(DEBOUNCE_SLOW_MS - 1);
  t.equal(rig.controller.status().cp, 'B', `${DEBOUNCE_SLOW_MS - 1} ms after: still B`);
  t.equal(rig.closed(), false);
  rig.clock.advance(1);
  t.equal(rig.controller.status().cp, 'C', `C at ${rig.clock.now() - askedAtMs} ms`);
});

t.test('a stopped controller listens no more: no pass after stop', async (t) => {
  const rig = await chargingRig();
  rig.plant.configureEv({ state: 'B' });
  await rig.settle(rig.controller.stop(), 10_000);
  t.equal(rig.hal.pilot.onChange, null, 'the change event is released');
  const feeds = rig.hal.watchdog.feeds;
  rig.plant.configureEv({ state: 'A' });
  await Promise.resolve();
  rig.clock.advance(1000);
  t.equal(rig.hal.watchdog.feeds, feeds, 'no pass');
});

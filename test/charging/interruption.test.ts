import t from 'tap';
import { charging, simRig, type Rig } from '../helpers/sim-rig.js';

const SWITCHING = { enabled: true, minIntervalS: 300, pauseS: 10 };

/** Records every phase-relay switch with the state of the main contacts at that moment. */
function watchRelay(rig: Rig): Array<{ atMs: number; phases: number; underLoad: boolean; contactsClosed: boolean }> {
  const switches: Array<{ atMs: number; phases: number; underLoad: boolean; contactsClosed: boolean }> = [];
  const relay = rig.hal.phaseRelay;
  const setPhases = relay.setPhases.bind(relay);
  relay.setPhases = (phases) => {
    switches.push({
      atMs: rig.clock.now(),
      phases,
      underLoad: rig.plant.currentsA().some((a) => a > 0),
      contactsClosed: rig.plant.contactsClosed(),
    });
    setPhases(phases);
  };
  return switches;
}

t.test('CP disconnect with the contactor open: state E at once for N s, a second request meanwhile is ignored', async (t) => {
  const rig = simRig();
  rig.plant.configureEv({ state: 'B' });
  rig.until(() => rig.plant.pilot.mode === 'pwm');
  t.equal(rig.controller.requestCpDisconnect(5), true);
  t.equal(rig.plant.pilot.mode, 'E', 'pilot at 0 V in the same call');
  t.equal(rig.controller.requestCpDisconnect(30), false, 'a second write while one runs is ignored');
  const ms = rig.until(() => rig.plant.pilot.mode !== 'E', 10_000);
  t.ok(ms >= 4990 && ms <= 5005, `state E held ${ms} ms`);
  rig.until(() => rig.plant.pilot.mode === 'pwm', 1000);
  t.equal(rig.controller.status().interruption, null);
  t.same(rig.faults(), [], 'the 0 V of our own disconnect is no CP short');
});

t.test(
  'CP disconnect while charging: PWM off first, the disconnect starts once the contactor has opened, then charging resumes',
  async (t) => {
    const rig = charging(simRig());
    rig.controller.requestCpDisconnect(5);
    t.equal(rig.plant.pilot.mode, 'x1', 'PWM stopped');
    t.equal(rig.closed(), true, 'the contactor waits for the car');
    rig.until(() => !rig.closed(), 7000);
    const toE = rig.until(() => rig.plant.pilot.mode === 'E', 100);
    t.ok(toE <= 5, `state E ${toE} ms after the contactor opened`);
    const eAt = rig.clock.now();
    rig.until(() => rig.plant.pilot.mode !== 'E', 10_000);
    t.ok(rig.clock.now() - eAt >= 5000, 'for the full 5 s');
    rig.until(() => rig.closed(), 10_000);
    t.pass('the car asked for C again and charges');
  },
);

t.test('phase switch: PWM off, car stops drawing, contactor opens, relay switches, E for pauseS, then one phase', async (t) => {
  const rig = charging(simRig({ modbusLimitA: 16, evse: { phaseSwitching: SWITCHING, minOffS: 5 } }));
  const switches = watchRelay(rig);
  t.same(rig.plant.currentsA(), [16, 16, 16]);
  t.equal(rig.controller.requestPhases(1), true);
  t.equal(rig.plant.pilot.mode !== 'pwm', true, 'PWM off at once');
  rig.until(() => switches.length === 1, 2000);
  t.same(
    switches.map((s) => [s.phases, s.underLoad, s.contactsClosed]),
    [[1, false, false]],
    'switched with the contacts open and no current',
  );
  t.equal(rig.plant.pilot.mode, 'E');
  const pausedAt = rig.clock.now();
  rig.until(() => rig.plant.pilot.mode !== 'E', 20_000);
  t.ok(rig.clock.now() - pausedAt >= 10_000, 'held in E for pauseS');
  rig.until(() => rig.closed(), 10_000);
  t.same(rig.plant.currentsA(), [16, 0, 0], 'charging on one phase');
  t.equal(rig.controller.status().phases, 1);
  t.equal(rig.controller.phaseSelection(), 1);
});

t.test('at most one switch per minIntervalS: a second request waits for the interval', async (t) => {
  const rig = charging(simRig({ evse: { phaseSwitching: SWITCHING } }));
  const switches = watchRelay(rig);
  rig.controller.requestPhases(1);
  rig.until(() => switches.length === 1, 2000);
  rig.until(() => rig.closed(), 30_000);
  rig.controller.requestPhases(3);
  t.equal(rig.controller.phaseSelection(), 3, 'the request reads back at once');
  rig.clock.advance(60_000);
  t.equal(switches.length, 1, 'no second switch within the interval');
  t.equal(rig.closed(), true, 'charging goes on meanwhile');
  rig.until(() => switches.length === 2, 300_000);
  t.ok((switches[1]?.atMs ?? 0) - (switches[0]?.atMs ?? 0) >= 300_000, 'the second switch 300 s after the first');
  t.equal(switches[1]?.underLoad, false);
});

t.test('a request for the phases already in use changes nothing; switching disabled refuses', async (t) => {
  const rig = charging(simRig({ evse: { phaseSwitching: SWITCHING } }));
  const switches = watchRelay(rig);
  rig.controller.requestPhases(3);
  rig.clock.advance(30_000);
  t.equal(switches.length, 0);
  t.equal(rig.closed(), true);
  const disabled = simRig();
  t.equal(disabled.controller.requestPhases(1), false);
});

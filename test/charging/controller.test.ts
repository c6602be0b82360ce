import t from 'tap';
import { dutyPctForCurrent } from '../../firmware/charging/duty.js';

import { charging, simRig } from '../helpers/sim-rig.js';

const duty = (a: number) => dutyPctForCurrent(a);

t.test('a car goes A→B→C→B→A: duty, pilot, contactor, lock and energy at each step', async (t) => {
  const rig = simRig();
  const { plant, controller } = rig;
  t.same(plant.pilot, { mode: 'x1' }, 'state A: +12 V, no PWM');
  t.equal(controller.status().cp, 'A');

  plant.configureEv({ state: 'B' });
  const toB = rig.until(() => controller.status().cp === 'B');
  t.ok(toB <= 150, `plug-in recognised after ${toB} ms`);
  t.same(plant.pilot, { mode: 'pwm', dutyPct: duty(32) }, 'B: PWM offers 32 A');
  t.equal(controller.status().offeredA, 32);
  t.equal(rig.closed(), false, 'B: contactor open');
  t.equal(plant.lockCommanded, true, 'B: plug locked');
  rig.clock.advance(10_000);
  t.equal(rig.closed(), false, 'B for 10 s: still open');

  plant.configureEv({ state: 'C' });
  const toClose = rig.until(() => rig.closed());
  t.ok(toClose <= 3000, `contactor closed ${toClose} ms after the car went to C (Table A.6: within 3 s)`);
  t.equal(plant.lineState(), 'C');
  t.same(plant.currentsA(), [32, 32, 32], 'the car draws 32 A on three phases');

  // Six minutes, a tenth of an hour (an hour of ticks took 10 s of CPU): the energy is counted at
  // the power drawn, to the Wh (2,208 Wh; a rate off by 0.05 % would miss).
  const startWh = plant.meterReading().energyWh;
  rig.clock.advance(360_000);
  const chargedWh = plant.meterReading().energyWh - startWh;
  t.ok(Math.abs(chargedWh - (32 * 230 * 3) / 10) < 1, `six minutes at 32 A × 3 × 230 V = ${chargedWh.toFixed(1)} Wh`);
  t.equal(controller.status().meter?.powerW, 32 * 230 * 3);

  plant.configureEv({ state: 'B' });
  const toOpen = rig.until(() => !rig.closed());
  t.ok(toOpen <= 100, `contactor opened ${toOpen} ms after the car left C (Table A.6 seq. 8.1: within 100 ms)`);
  t.same(plant.pilot, { mode: 'pwm', dutyPct: duty(32) }, 'back in B the offer stays on the pilot');
  const idleWh = plant.meterReading().energyWh;
  rig.clock.advance(60_000);
  t.equal(plant.meterReading().energyWh, idleWh, 'no energy counted with the contactor open');

  plant.configureEv({ state: 'A' });
  rig.until(() => controller.status().cp === 'A', 100);
  t.same(plant.pilot, { mode: 'x1' }, 'A: PWM off');
  t.equal(plant.lockCommanded, false, 'A: plug unlocked');
});

t.test('unplugging while charging opens the contactor within 100 ms (Table A.6 seq. 2.2)', async (t) => {
  const rig = charging(simRig());
  rig.plant.configureEv({ state: 'A' });
  const ms = rig.until(() => !rig.closed());
  t.ok(ms <= 100, `opened after ${ms} ms`);
  t.same(rig.plant.pilot, { mode: 'x1' });
});

t.test('a withdrawal stops the PWM at once; a car that follows gets its contactor opened within 100 ms of leaving C', async (t) => {
  const rig = charging(simRig());
  rig.controller.setModbusLimit(32, false);
  t.same(rig.plant.pilot, { mode: 'x1' }, 'PWM stopped in the same call, before any tick');
  t.equal(rig.controller.status().offeredA, 0);
  t.same(rig.plant.currentsA(), [0, 0, 0], 'the car stops drawing');
  t.equal(rig.closed(), true, 'contactor still closed while the car holds C');
  const leftC = rig.until(() => rig.plant.lineState() === 'B');
  const opened = rig.until(() => !rig.closed());
  t.equal(leftC, 1000, 'the car left C after its follow delay');
  t.ok(opened <= 100, `opened ${opened} ms after the car left C`);
});

t.test('a car that stays in C after the PWM stopped is cut off after 6 s (Table A.6 seq. 10.2)', async (t) => {
  const rig = charging(simRig());
  rig.plant.configureEv({ followDelayMs: 60_000 });
  rig.controller.setModbusLimit(5, true); // below 6 A pauses
  t.same(rig.plant.pilot, { mode: 'x1' }, 'below 6 A: PWM off at once');
  const ms = rig.until(() => !rig.closed(), 10_000);
  t.ok(ms >= 6000 && ms <= 6000 + 10, `opened after ${ms} ms`);
  t.equal(rig.plant.lineState(), 'C', 'the car still showed C');
});

t.test('the PWM returning within 6 s keeps the contactor closed', async (t) => {
  const rig = charging(simRig());
  rig.plant.configureEv({ followDelayMs: 60_000 });
  rig.controller.setModbusLimit(32, false);
  rig.clock.advance(4000);
  rig.controller.setModbusLimit(32, true);
  t.same(rig.plant.pilot, { mode: 'pwm', dutyPct: duty(32) });
  rig.clock.advance(10_000);
  t.equal(rig.closed(), true, 'still charging 10 s later');
});

t.test('minOffS: after the contactor opened it does not close again sooner than evse.minOffS', async (t) => {
  const rig = charging(simRig({ evse: { minOffS: 30 } }));
  rig.controller.setModbusLimit(32, false);
  rig.until(() => !rig.closed());
  const openedAt = rig.clock.now();
  rig.controller.setModbusLimit(32, true);
  t.same(rig.plant.pilot, { mode: 'pwm', dutyPct: duty(32) }, 'PWM back at once');
  rig.until(() => rig.plant.lineState() === 'C', 100);
  const cAt = rig.clock.now();
  rig.until(() => rig.closed(), 40_000);
  const offMs = rig.clock.now() - openedAt;
  t.ok(offMs >= 30_000 && offMs <= 30_010, `closed ${offMs} ms after it opened (minOffS 30 s)`);
  t.ok(rig.clock.now() - cAt > 3000, 'minOffS wins over the 3 s close rule');
});

t.test('with minOffS elapsed the contactor closes within 3 s of the car returning to C', async (t) => {
  const rig = charging(simRig({ evse: { minOffS: 1 } }));
  rig.controller.setModbusLimit(32, false);
  rig.until(() => !rig.closed());
  rig.clock.advance(5000);
  rig.controller.setModbusLimit(32, true);
  rig.until(() => rig.plant.lineState() === 'C', 100);
  const ms = rig.until(() => rig.closed(), 5000);
  t.ok(ms <= 3000, `closed ${ms} ms after C`);
});

t.test('a lower offer reaches the pilot at once; a higher one too, without a rate limit', async (t) => {
  const rig = charging(simRig());
  rig.controller.setModbusLimit(10, true);
  t.same(rig.plant.pilot, { mode: 'pwm', dutyPct: duty(10) });
  t.same(rig.plant.currentsA(), [10, 10, 10], 'the car follows the new duty');
  rig.controller.setModbusLimit(16.7, true);
  t.same(rig.plant.pilot, { mode: 'pwm', dutyPct: duty(16.7) });
  t.equal(rig.controller.status().offeredA, 16.7);
  t.equal(rig.closed(), true, 'changes of the offer never open the contactor');
});

t.test('the offer is the minimum of hardware, cable and Modbus; the car draws min(offer, its max)', async (t) => {
  const rig = simRig({ evse: { maxCurrentA: 20 } });
  rig.plant.configureEv({ ppCurrentA: 13, maxCurrentA: 10 });
  charging(rig);
  t.equal(rig.controller.status().offeredA, 13);
  t.equal(rig.controller.status().offer.limitedBy, 'cable');
  t.same(rig.plant.currentsA(), [10, 10, 10]);
});

t.test('socket without a cable (PP open) offers nothing; a tethered cable ignores PP', async (t) => {
  const socket = simRig();
  socket.plant.configureEv({ ppCurrentA: 0, state: 'C' });
  socket.clock.advance(10_000);
  t.equal(socket.plant.pilot.mode, 'x1');
  t.equal(socket.closed(), false);
  t.equal(socket.controller.status().offer.limitedBy, 'cable');

  const tethered = simRig({ evse: { cable: 'tethered' } });
  tethered.plant.configureEv({ ppCurrentA: 0 });
  charging(tethered);
  t.equal(tethered.controller.status().offeredA, 32);
  t.equal(tethered.plant.lockCommanded, false, 'a tethered cable has no lock to drive');
});

t.test('state D charges only with evse.ventilation', async (t) => {
  const plain = simRig();
  plain.plant.configureEv({ state: 'D' });
  plain.clock.advance(10_000);
  t.equal(plain.closed(), false, 'no ventilation: never closes');
  t.equal(plain.plant.pilot.mode, 'x1', 'no ventilation: no PWM in D');

  const vented = simRig({ evse: { ventilation: true } });
  vented.plant.configureEv({ state: 'D' });
  const ms = vented.until(() => vented.closed(), 5000);
  t.ok(ms <= 3000, `ventilation: closed in D after ${ms} ms`);
  vented.plant.configureEv({ state: 'B' });
  t.ok(vented.until(() => !vented.closed()) <= 100, 'D→B opens within 100 ms');
});

t.test('OCPP configured: nothing is offered until OCPP allows it; then the OCPP limit counts', async (t) => {
  const rig = simRig({ ocpp: true });
  rig.plant.configureEv({ state: 'C' });
  rig.clock.advance(10_000);
  t.equal(rig.closed(), false);
  t.equal(rig.controller.status().offer.pausedBy, 'ocppNotAllowed');
  rig.controller.setOcppLimit(16);
  rig.clock.advance(1000);
  t.equal(rig.closed(), false, 'a limit alone does not allow charging');
  rig.controller.setOcppAllowed(true);
  rig.until(() => rig.closed(), 5000);
  t.equal(rig.controller.status().offeredA, 16);
  t.equal(rig.controller.status().offer.limitedBy, 'ocpp');
});

for (const kind of ['diode', 'cpShort'] as const) {
  t.test(`${kind}: state F for at least 300 ms, contactor open, nothing charges until the car is unplugged`, async (t) => {
    const rig = charging(simRig());
    rig.plant.setFault(kind);
    const ms = rig.until(() => rig.plant.pilot.mode === 'F', 100);
    t.ok(ms <= 50, `state F after ${ms} ms`);
    t.equal(rig.closed(), false, 'contactor opened together with state F');
    t.equal(rig.controller.status().pilotFault, kind);
    t.equal(rig.controller.status().offeredA, 0, 'nothing offered');
    const fAt = rig.clock.now();
    rig.until(() => rig.plant.pilot.mode !== 'F', 2000);
    t.ok(rig.clock.now() - fAt >= 300, `F held ${rig.clock.now() - fAt} ms`);
    t.equal(rig.plant.pilot.mode, 'x1', 'then +12 V so an unplug can be seen');

    rig.plant.setFault('none'); // the fault may vanish, the latch stays until unplug
    rig.clock.advance(60_000);
    t.equal(rig.closed(), false, 'still no charging while the car stays plugged in');
    t.equal(rig.controller.status().pilotFault, kind, 'still latched');

    rig.plant.configureEv({ state: 'A' });
    rig.until(() => rig.controller.status().pilotFault === null, 1000);
    rig.plant.configureEv({ state: 'C' });
    rig.until(() => rig.closed(), 10_000);
    t.pass('after the unplug a new plug-in charges again');
  });
}

t.test('a car plugged in with a missing diode is never energised', async (t) => {
  const rig = simRig();
  rig.plant.setFault('diode');
  rig.plant.configureEv({ state: 'C' });
  let everClosed = false;
  for (let i = 0; i < 20_000; i++) {
    rig.clock.advance(1);
    everClosed ||= rig.closed();
  }
  t.equal(everClosed, false);
  t.equal(rig.controller.status().pilotFault, 'diode');
});

t.test('a clean stop withdraws the PWM, waits for the car to leave C, then opens and switches the pilot off', async (t) => {
  const rig = charging(simRig());
  const stopped = rig.controller.stop();
  t.equal(rig.plant.pilot.mode, 'x1', 'PWM off at once');
  t.equal(rig.closed(), true, 'the contactor waits for the car');
  const startMs = rig.clock.now();
  await rig.settle(stopped, 5000);
  const tookMs = rig.clock.now() - startMs;
  t.ok(tookMs >= 1000 && tookMs <= 1100, `stopped ${tookMs} ms later, once the car had left C`);
  t.equal(rig.closed(), false);
  t.equal(rig.plant.pilot.mode, 'off');
});

t.test('a clean stop with a car stuck in C opens under load after 3 s', async (t) => {
  const rig = charging(simRig());
  rig.plant.configureEv({ followDelayMs: 60_000 });
  const startMs = rig.clock.now();
  await rig.settle(rig.controller.stop(), 5000);
  const tookMs = rig.clock.now() - startMs;
  t.ok(tookMs >= 3000 && tookMs <= 3010, `stopped after ${tookMs} ms`);
  t.equal(rig.closed(), false);
  t.equal(rig.plant.pilot.mode, 'off');
});

t.test('the control loop feeds the watchdog every tick', async (t) => {
  const rig = simRig({ tickMs: 5 });
  const before = rig.hal.watchdog.feeds;
  rig.clock.advance(1000);
  t.equal(rig.hal.watchdog.feeds - before, 200);
});

t.test('a listener that changes an input is not re-entered: every listener hears the statuses in order, the latest last', async (t) => {
  const rig = simRig();
  const { plant, controller } = rig;
  const heard: Record<'first' | 'second', string[]> = { first: [], second: [] };
  let depth = 0;
  let deepest = 0;
  controller.onChange((status) => {
    depth += 1;
    deepest = Math.max(deepest, depth);
    heard.first.push(`${status.cp}/${status.offeredA}`);
    // As OCPP's transaction service does at a plug-in: the permission changes while the status is told.
    if (status.cp === 'B') controller.setOcppAllowed(false);
    depth -= 1;
  });
  controller.onChange((status) => heard.second.push(`${status.cp}/${status.offeredA}`));
  controller.setOcppConfigured(true);
  controller.setOcppAllowed(true);
  plant.configureEv({ state: 'B' });
  rig.until(() => controller.status().cp === 'B');
  rig.clock.advance(500);
  t.equal(deepest, 1, 'the listener was never called inside itself');
  t.equal(heard.second.at(-1), 'B/0', 'the second listener heard the withdrawn offer last');
  t.notOk(heard.second.includes('B/32'), 'the second listener never heard the stale offer of 32 A');
  t.equal(heard.first.at(-1), 'B/0', 'the first listener ends on the latest status too');
});

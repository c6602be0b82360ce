import t from 'tap';
import { FaultLog } from '../../firmware/safety/fault-log.js';
import { OCPP_ERROR_CODE } from '../../firmware/safety/faults.js';
import { evseStateCode } from '../../firmware/modbus/state-register.js';
import { silentLogger } from '../../firmware/log.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { charging, simRig, type Rig } from '../helpers/sim-rig.js';

/**
 * Every fault of CONTRACT §6 on the simulated board: detection time on the injected clock, the
 * reaction, the report (status, 8092, OCPP error code), the latch and how it ends.
 */

/** Runs `ms` of simulated time and says whether the contactor was ever commanded closed. */
function everClosedWithin(rig: Rig, ms: number): boolean {
  let closed = false;
  for (let i = 0; i < ms; i += 5) {
    rig.clock.advance(5);
    closed ||= rig.closed();
  }
  return closed;
}

function replug(rig: Rig): void {
  rig.plant.configureEv({ state: 'A' });
  rig.clock.advance(500);
  rig.plant.configureEv({ state: 'C' });
}

t.test('welded contactor: detected within 200 ms of the release, latched across a restart until an installer clears it', async (t) => {
  const dataDir = t.testdir({});
  const faultLog = await FaultLog.load(dataDir, silentLogger);
  const rig = charging(simRig({ faultLog }));
  rig.plant.setFault('relayWeld');
  rig.plant.configureEv({ state: 'B' }); // the car stops; the coil is released, the contacts stay closed
  rig.until(() => !rig.closed(), 100);
  const ms = rig.until(() => rig.faults().includes('contactorWelded'), 1000);
  t.ok(ms <= 210, `detected ${ms} ms after the release`);
  const status = rig.controller.status();
  t.equal(status.pilot.mode, 'x1', 'no PWM: the car must not draw through the welded contacts');
  t.equal(evseStateCode(status), 5, '8092 = 5');
  t.equal(OCPP_ERROR_CODE.contactorWelded, 'PowerSwitchFailure');
  t.equal(rig.plant.lockCommanded, true, 'the plug stays locked while the supply is live');
  rig.plant.configureEv({ state: 'A' });
  rig.clock.advance(1000);
  t.equal(rig.plant.lockCommanded, true, 'still locked in A: the socket is live');

  rig.plant.setFault('none'); // the contacts come free, the latch stays
  replug(rig);
  t.equal(everClosedWithin(rig, 30_000), false, 'no later plug-in closes the contactor');
  t.ok(rig.faults().includes('contactorWelded'));
  await faultLog.flush();

  // Restart: a new controller over the same dataDir starts latched.
  const reloaded = await FaultLog.load(dataDir, silentLogger);
  t.same(
    reloaded.latched.map((f) => f.kind),
    ['contactorWelded'],
    'the latch is on disk',
  );
  const restarted = simRig({ faultLog: reloaded });
  restarted.plant.configureEv({ state: 'C' });
  t.equal(everClosedWithin(restarted, 30_000), false, 'after the restart it still never closes');
  t.equal(restarted.controller.status().pilot.mode, 'x1');

  await restarted.controller.clearFaults();
  t.same(restarted.faults(), [], 'an installer clears it');
  restarted.until(() => restarted.closed(), 5000);
  t.pass('and the box charges again');
  t.same((await FaultLog.load(dataDir, silentLogger)).latched, [], 'the clear is on disk');
});

t.test('a weld while idle is seen from the mirror alone', async (t) => {
  const rig = simRig();
  rig.plant.setFault('relayWeld');
  const ms = rig.until(() => rig.faults().includes('contactorWelded'), 1000);
  t.ok(ms <= 210, `detected after ${ms} ms`);
});

t.test('contactor stuck open: detected 1 s after the close, retried once after minOffS, then latched', async (t) => {
  const rig = simRig({ evse: { minOffS: 5 } });
  rig.plant.setFault('contactorStuckOpen');
  rig.plant.configureEv({ state: 'C' });
  rig.until(() => rig.closed(), 5000);
  const first = rig.until(() => rig.faults().includes('contactorStuckOpen'), 3000);
  t.ok(first >= 1000 && first <= 1010, `first detection ${first} ms after the close`);
  t.equal(rig.closed(), false, 'the coil is released');
  t.equal(evseStateCode(rig.controller.status()), 5);
  t.equal(rig.controller.status().faults[0]?.latch, 'retry');

  const retry = rig.until(() => rig.closed(), 10_000);
  // minOffS, then the car needs its 100 ms in C again before the close.
  t.ok(retry >= 5000 && retry <= 5200, `retried ${retry} ms later (minOffS 5 s)`);
  rig.until(() => rig.faults().includes('contactorStuckOpen'), 3000);
  t.equal(rig.controller.status().faults[0]?.latch, 'restart', 'second failure latches');
  t.equal(everClosedWithin(rig, 60_000), false, 'no third attempt');
  replug(rig);
  t.equal(everClosedWithin(rig, 30_000), false, 'not on a later plug-in either');
});

t.test('a contactor that closes on the retry clears the count', async (t) => {
  const rig = simRig({ evse: { minOffS: 1 } });
  rig.plant.setFault('contactorStuckOpen');
  rig.plant.configureEv({ state: 'C' });
  rig.until(() => rig.faults().includes('contactorStuckOpen'), 5000);
  rig.plant.setFault('none');
  rig.until(() => rig.closed() && rig.plant.contactsClosed(), 5000);
  rig.clock.advance(5000);
  t.same(rig.faults(), [], 'charging after a good retry');
});

t.test('RCD: open at once, latched until unplug, one self-test before the next close', async (t) => {
  const rig = charging(simRig());
  rig.plant.setFault('rcd');
  const ms = rig.until(() => !rig.closed(), 100);
  t.ok(ms <= 5, `open ${ms} ms after the trip (next control pass)`);
  t.same(rig.faults(), ['rcd']);
  t.equal(OCPP_ERROR_CODE.rcd, 'GroundFailure');
  t.equal(evseStateCode(rig.controller.status()), 5);
  rig.plant.setFault('none');
  t.equal(everClosedWithin(rig, 30_000), false, 'the car still plugged in: latched');

  rig.plant.configureEv({ state: 'A' });
  rig.until(() => rig.faults().length === 0, 1000);
  rig.plant.configureEv({ state: 'C' });
  const closeMs = await rig.waitFor(() => rig.closed(), 5000);
  t.ok(closeMs >= 200, `the close waited for the self-test (${closeMs} ms)`);
  t.ok(
    rig.controller.faultHistory().some((f) => f.kind === 'rcd' && f.clearedAtMs !== null),
    'history shows the trip and its end',
  );
});

t.test('an RCD that fails its self-test is latched for an installer', async (t) => {
  const rig = charging(simRig());
  rig.plant.setFault('rcd');
  rig.until(() => !rig.closed(), 100);
  rig.plant.setFault('none');
  rig.plant.rcdSelfTestFails = true;
  replug(rig);
  await rig.waitFor(() => rig.faults().includes('rcd'), 5000);
  t.equal(everClosedWithin(rig, 30_000), false);
  t.same(
    rig.controller.status().faults.map((f) => [f.kind, f.latch]),
    [['rcd', 'installer']],
  );
});

t.test('over-current: above offered + 10 % + 0.5 A for 7 s stops; retried after minOffS', async (t) => {
  const rig = simRig({ modbusLimitA: 16, evse: { minOffS: 5 } });
  charging(rig);
  rig.plant.setFault('overcurrent'); // 16 × 1.25 + 1 = 21 A > 18.1 A
  const ms = rig.until(() => rig.faults().includes('overCurrent'), 10_000);
  t.ok(ms >= 7000 && ms <= 7010, `detected after ${ms} ms`);
  t.equal(rig.closed(), false, 'stopped');
  t.equal(rig.plant.pilot.mode, 'x1');
  t.equal(OCPP_ERROR_CODE.overCurrent, 'OverCurrentFailure');
  rig.plant.setFault('none');
  const retry = rig.until(() => rig.closed(), 10_000);
  t.ok(retry >= 4900 && retry <= 5200, `charging again ${retry} ms later`);
  t.same(rig.faults(), []);
});

t.test('a car that follows a lower offer within 7 s is no over-current', async (t) => {
  const rig = charging(simRig());
  rig.plant.configureEv({ maxCurrentA: 32 });
  rig.controller.setModbusLimit(10, true);
  rig.clock.advance(30_000);
  t.same(rig.faults(), []);
  t.equal(rig.closed(), true);
});

t.test('meter lost: reported after 10 s, charging goes on, no energy invented; ends when readings return', async (t) => {
  const rig = charging(simRig());
  rig.clock.advance(60_000);
  rig.plant.setFault('meterLost');
  const frozenWh = rig.controller.status().meter?.energyWh;
  const ms = rig.until(() => rig.faults().includes('meterLost'), 20_000);
  t.ok(ms >= 10_000 && ms <= 10_005, `reported after ${ms} ms`);
  t.equal(rig.closed(), true, 'still charging');
  t.equal(rig.controller.status().offeredA, 32, 'at the offered current');
  t.equal(evseStateCode(rig.controller.status()), 2, '8092 still shows C');
  t.equal(OCPP_ERROR_CODE.meterLost, 'PowerMeterFailure');
  rig.clock.advance(60_000);
  t.equal(rig.controller.status().meter?.energyWh, frozenWh, 'the energy is not invented');
  rig.plant.setFault('none');
  rig.until(() => rig.faults().length === 0, 100);
  t.ok((rig.controller.status().meter?.energyWh ?? 0) > (frozenWh ?? 0), 'the real meter counted on');
});

t.test('lock failure: no charge, reported after 1 s, ends when the lock works again in A', async (t) => {
  const rig = simRig();
  rig.plant.lockStuckAt = false;
  rig.plant.configureEv({ state: 'C' });
  const ms = rig.until(() => rig.faults().includes('lockFailure'), 5000);
  t.ok(ms <= 1200, `reported ${ms} ms after the plug-in`);
  t.equal(rig.controller.status().pilot.mode, 'x1', 'no PWM');
  t.equal(everClosedWithin(rig, 30_000), false, 'never energised with the plug unlocked');
  t.equal(OCPP_ERROR_CODE.lockFailure, 'ConnectorLockFailure');
  rig.plant.lockStuckAt = null;
  rig.plant.configureEv({ state: 'A' });
  rig.until(() => rig.faults().length === 0, 2000);
  rig.plant.configureEv({ state: 'C' });
  rig.until(() => rig.closed(), 5000);
  t.pass('a working lock charges again');
});

t.test('UnlockConnector: stops charging, opens, releases the plug until the car is unplugged', async (t) => {
  const rig = charging(simRig());
  const result = rig.settle(rig.controller.unlockConnector(), 5000);
  t.equal(rig.closed(), false, 'the contactor opened at once');
  t.equal(await result, 'Unlocked');
  t.equal(rig.plant.lockCommanded, false);
  rig.clock.advance(10_000);
  t.equal(rig.plant.lockCommanded, false, 'stays released with the car in B');
  t.equal(rig.closed(), false);
  replug(rig);
  rig.until(() => rig.closed(), 5000);
  t.equal(rig.plant.lockCommanded, true, 'locks again for the next session');

  rig.plant.lockStuckAt = true;
  t.equal(await rig.settle(rig.controller.unlockConnector(), 10_000), 'UnlockFailed', 'a jammed lock reports UnlockFailed');
  const tethered = simRig({ evse: { cable: 'tethered' } });
  t.equal(await tethered.controller.unlockConnector(), 'NotSupported');
});

t.test('a stalled control loop stops feeding the watchdog, which drops contactor and pilot by itself', async (t) => {
  const rig = charging(simRig());
  const sample = rig.hal.pilot.sample.bind(rig.hal.pilot);
  rig.hal.pilot.sample = () => {
    throw new Error('ADC not answering');
  };
  const feeds = rig.hal.watchdog.feeds;
  rig.clock.advance(5);
  t.equal(rig.closed(), false, 'the failed pass forced the contactor open');
  rig.clock.advance(2000);
  t.equal(rig.hal.watchdog.feeds, feeds, 'no feed while the loop fails');
  t.equal(rig.hal.watchdog.bitten, true, 'the hardware watchdog fired');
  t.equal(rig.plant.pilot.mode, 'off');
  rig.hal.pilot.sample = sample;
  rig.clock.advance(100);
  t.ok(rig.hal.watchdog.feeds > feeds, 'a recovered loop feeds again');
  t.equal(rig.plant.pilot.mode, 'off', 'but the board stays in reset: outputs off');
  t.equal(rig.plant.contactsClosed(), false);
});

t.test('the fault history keeps the last 50 faults with time and cause, in dataDir', async (t) => {
  const dataDir = t.testdir({});
  const clock = new SimulatedClock();
  const faultLog = await FaultLog.load(dataDir, silentLogger);
  const rig = simRig({ faultLog, clock });
  for (let i = 0; i < 60; i++) {
    rig.plant.setFault('cpShort');
    rig.plant.configureEv({ state: 'B' });
    rig.clock.advance(400);
    rig.plant.setFault('none');
    rig.plant.configureEv({ state: 'A' });
    rig.clock.advance(400);
  }
  await faultLog.flush();
  const history = (await FaultLog.load(dataDir, silentLogger)).history;
  t.equal(history.length, 50);
  t.ok(history.every((f) => f.kind === 'cpShort' && f.cause.length > 0 && f.sinceMs > 0 && f.clearedAtMs !== null));
  t.equal(history.at(-1)?.sinceMs, rig.controller.faultHistory().at(-1)?.sinceMs, 'newest last');
});

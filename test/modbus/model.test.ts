import t from 'tap';
import { Exception } from '../../firmware/modbus/codec.js';
import { ModbusModel, type ModbusModelOptions } from '../../firmware/modbus/model.js';
import { silentLogger } from '../../firmware/log.js';
import type { Clock } from '../../hal/clock.js';
import type { EvseSettings } from '../../firmware/charging/controller.js';
import { charging, simRig, type Rig } from '../helpers/sim-rig.js';

interface Fixture {
  rig: Rig;
  model: ModbusModel;
  saved: Array<[string, number]>;
  write: (name: Parameters<ModbusModel['write']>[0][number]['name'], raw: number) => Promise<number | null>;
  read: () => ReturnType<ModbusModel['values']>;
  /** Delays of the timers the model set: only its watchdog sets any. */
  timersSetMs: number[];
}

function fixture(options: Partial<ModbusModelOptions> & { evse?: Partial<EvseSettings> } = {}): Fixture {
  const rig = simRig({ ...(options.evse && { evse: options.evse }) });
  const saved: Array<[string, number]> = [];
  const timersSetMs: number[] = [];
  const clock: Clock = {
    now: () => rig.clock.now(),
    setTimeout: (fn, delayMs) => (timersSetMs.push(delayMs), rig.clock.setTimeout(fn, delayMs)),
    clearTimeout: (handle) => rig.clock.clearTimeout(handle),
  };
  const model = new ModbusModel({
    charging: rig.controller,
    clock,
    log: silentLogger,
    identity: { vendorId: 0x534e, productId: 1, firmwareVersion: '1.2.3', serialNumber: 'SN1', productName: 'Box' },
    persistence: {
      saveUnitId: async (v) => void saved.push(['unitId', v]),
      saveBootLimit: async (v) => void saved.push(['bootLimit', v]),
    },
    unitId: 1,
    installationLimitA: 32,
    bootLimitA: 32,
    meterAttached: true,
    timeoutS: 0,
    failsafeCurrentA: 6,
    ...options,
  });
  return { rig, model, saved, write: (name, raw) => model.write([{ name, raw }]), read: () => model.values(), timersSetMs };
}

t.test('after boot: 8093 = 8081, 8094 = 1, identity and limits as configured', async (t) => {
  const { read } = fixture({ bootLimitA: 16 });
  const v = read();
  t.equal(v.currentLimit, 160);
  t.equal(v.bootLimit, 160);
  t.equal(v.chargingEnable, 1);
  t.equal(v.installationLimit, 320);
  t.equal(v.firmwareVersion, (1 << 24) | (2 << 16) | 3);
  t.equal(v.mapVersion, 0x0100);
  t.equal(v.meterAttached, 1);
  t.equal(v.phaseCurrentsValid, 1);
  t.equal(v.features, 0, 'no phase switching');
  t.equal(v.evseState, 0);
  t.equal(v.offeredCurrent, 0);
});

t.test('8081 = 0 boots paused until the energy manager writes 8093', async (t) => {
  const { rig, write } = fixture({ bootLimitA: 0 });
  rig.plant.configureEv({ state: 'C' });
  rig.clock.advance(10_000);
  t.equal(rig.closed(), false);
  await write('currentLimit', 100);
  rig.until(() => rig.closed(), 5000);
  t.equal(rig.controller.status().offeredA, 10);
});

t.test('a limit written to 8093 reaches the pilot at once, 7.5 A included', async (t) => {
  const { rig, write, read } = fixture();
  charging(rig);
  await write('currentLimit', 75);
  t.equal(rig.plant.pilot.mode === 'pwm' && Math.round(rig.plant.pilot.dutyPct * 1000) / 1000, 12.5, 'no control tick needed');
  t.equal(read().offeredCurrent, 75);
  t.equal(read().currentLimit, 75);
});

t.test('the paused view: 8093 and 8094 as written, 8095 = 0, 8092 = 2 while the car holds C, 1 once in B, 8062 = 0', async (t) => {
  const { rig, write, read } = fixture();
  charging(rig);
  t.equal(read().evseState, 2);
  t.equal(read().powerW, 32 * 230 * 3);
  await write('chargingEnable', 0);
  let v = read();
  t.same([v.currentLimit, v.chargingEnable, v.offeredCurrent, v.evseState, v.powerW], [320, 0, 0, 2, 0], 'right after the pause');
  rig.until(() => rig.plant.lineState() === 'B', 2000);
  rig.clock.advance(50);
  v = read();
  t.same([v.evseState, v.powerW, v.currentL1], [1, 0, 0], 'once the car is in B');
  await write('chargingEnable', 1);
  await write('currentLimit', 50);
  v = read();
  t.same([v.currentLimit, v.chargingEnable, v.offeredCurrent], [50, 1, 0], '8093 below 60 pauses too');
});

t.test('energy, power and currents follow the meter; 8058 is never 0 once read; a lost meter reads 8062 = -1', async (t) => {
  const { rig, read } = fixture();
  t.equal(read().energyWh, 1, 'a brand-new meter at 0 Wh reads 1');
  charging(rig);
  rig.clock.advance(360_000);
  const v = read();
  t.equal(v.energyWh, Math.round(rig.plant.meterReading().energyWh));
  t.ok(Math.abs(Number(v.energyWh) - 2208) <= 2, `${v.energyWh} Wh after 6 min at 3 × 32 A`);
  t.same([v.currentL1, v.currentL2, v.currentL3], [320, 320, 320]);
  rig.plant.setFault('meterLost');
  rig.clock.advance(10_010);
  const lost = read();
  t.equal(lost.powerW, -1);
  t.equal(lost.energyWh, v.energyWh, 'the last energy, not invented');
  t.same([lost.currentL1, lost.currentL2, lost.currentL3], [0, 0, 0]);
});

t.test('8040 and 8081 are persisted; a failed persist changes nothing', async (t) => {
  const { model, saved, write, read } = fixture();
  t.equal(await write('unitId', 17), null);
  t.equal(model.unitId, 17);
  t.equal(await write('bootLimit', 100), null);
  t.same(saved, [
    ['unitId', 17],
    ['bootLimit', 10],
  ]);
  t.equal(read().bootLimit, 100);
  t.equal(read().currentLimit, 320, '8081 does not change the running limit');
  const failing = fixture({
    persistence: { saveUnitId: () => Promise.reject(new Error('disk full')), saveBootLimit: () => Promise.reject(new Error('disk full')) },
  });
  await t.rejects(failing.write('unitId', 9));
  t.equal(failing.model.unitId, 1);
});

t.test('8087 without phase switching is exception 03; with it, it selects the phases', async (t) => {
  const off = fixture();
  t.equal(await off.write('phaseSelection', 1), Exception.IllegalDataValue);
  const on = fixture({ evse: { phaseSwitching: { enabled: true, minIntervalS: 300, pauseS: 10 } } });
  t.equal(on.read().features, 0x0100, '8113 bit 8');
  t.equal(on.read().phaseSelection, 0);
  charging(on.rig);
  t.equal(await on.write('phaseSelection', 1), null);
  t.equal(on.read().phaseSelection, 1, 'reads back at once');
  on.rig.until(() => on.rig.hal.phaseRelay.phases === 1, 5000);
  on.rig.until(() => on.rig.closed(), 30_000);
  t.same(on.rig.plant.currentsA(), [32, 0, 0]);
});

t.test('8086: 8092 holds its value during the CP disconnect, 8095 reads 0, a second write is ignored', async (t) => {
  const { rig, write, read } = fixture();
  rig.plant.configureEv({ state: 'B' });
  rig.until(() => rig.plant.pilot.mode === 'pwm');
  t.equal(read().evseState, 1);
  await write('cpDisconnect', 5);
  rig.clock.advance(1000);
  t.equal(rig.plant.pilot.mode, 'E');
  t.equal(read().evseState, 1, 'frozen at B although the line reads E');
  t.equal(read().offeredCurrent, 0);
  await write('cpDisconnect', 60);
  rig.until(() => rig.plant.pilot.mode !== 'E', 10_000);
  t.ok(rig.clock.now() > 0);
  rig.until(() => rig.plant.pilot.mode === 'pwm', 1000);
  t.equal(read().evseState, 1, 'live again');
});

t.test('8096 shows the transaction idTag and is cleared in state A', async (t) => {
  const { rig, model, read } = fixture();
  rig.plant.configureEv({ state: 'B' });
  rig.until(() => rig.controller.status().cp === 'B');
  model.setIdTag('04A2B3C4');
  t.equal(read().idTag, '04A2B3C4');
  rig.plant.configureEv({ state: 'A' });
  rig.until(() => rig.controller.status().cp === 'A');
  t.equal(read().idTag, '');
});

t.test('the watchdog: runs from boot, any valid request resets it, failsafe = min(failsafe, last 8093), 8094 kept', async (t) => {
  const { rig, model, write, read } = fixture({ timeoutS: 10, failsafeCurrentA: 6 });
  charging(rig);
  t.equal(rig.controller.status().offeredA, 32);
  rig.clock.advance(9_000);
  model.requestSeen(); // a read counts
  rig.clock.advance(9_000);
  t.equal(rig.controller.status().offeredA, 32, 'no fire while requests come');
  rig.clock.advance(1_001);
  t.equal(rig.controller.status().offeredA, 6, 'fired 10 s after the last request: failsafe 6 A');
  t.equal(read().currentLimit, 320, '8093 still reads what was written');
  t.equal(read().chargingEnable, 1);
  model.requestSeen();
  t.equal(rig.controller.status().offeredA, 32, 'the next request ends the failsafe');

  await write('currentLimit', 50);
  model.requestSeen();
  rig.clock.advance(10_000);
  t.equal(rig.controller.status().offer.limitA, 5, 'min(6, 5 A written)');
  t.equal(rig.controller.status().offeredA, 0);
});

t.test('failsafe 0 pauses; with the watchdog off nothing ever fires', async (t) => {
  const paused = fixture({ timeoutS: 5, failsafeCurrentA: 0 });
  charging(paused.rig);
  paused.rig.clock.advance(5_000);
  t.equal(paused.rig.controller.status().offeredA, 0);
  t.equal(paused.rig.plant.pilot.mode, 'x1');
  const off = fixture({ timeoutS: 0 });
  charging(off.rig);
  await off.write('currentLimit', 320);
  off.model.requestSeen();
  off.rig.clock.advance(600_000);
  t.equal(off.rig.controller.status().offeredA, 32);
  t.same(off.timersSetMs, [], 'no timer armed, before or after a request: it cannot fire at any time');
  t.ok(paused.timersSetMs.length > 0, 'where it is on, its timer is seen');
});

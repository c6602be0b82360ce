import t from 'tap';
import { codeableCurrentA, dutyPctForCurrent } from '../../firmware/charging/duty.js';
import type { ChargingProfile, InstalledProfile } from '../../firmware/ocpp/model/charging-profile.js';
import { connectorStatus } from '../../firmware/ocpp/model/connector-status.js';
import { memoryChargePoint } from '../helpers/memory-charge-point.js';
import { charging, simRig, type Rig } from '../helpers/sim-rig.js';
import { smartRig, txDefault } from '../helpers/smart-rig.js';

/**
 * Smart charging on the charging core, on the simulated clock: the limit of the profiles in force
 * reaches the pilot at the period boundary, min() with the Modbus limit, below 6 A pauses, W → A
 * with the phases energised, numberPhases asking for a phase switch, TxProfiles ending with
 * their transaction.
 */

const offered = (rig: Rig): number => rig.controller.status().offeredA;

t.test('a period boundary changes the pilot duty at the boundary, by a timer on the injected clock', async (t) => {
  const rig = await smartRig();
  rig.startTransaction();
  const startMs = rig.clock.now();
  t.equal(
    await rig.set(
      1,
      txDefault(
        [
          { startPeriod: 0, limit: 10 },
          { startPeriod: 60, limit: 16 },
          { startPeriod: 120, limit: 7.5 },
        ],
        rig.iso(),
      ),
    ),
    'Accepted',
  );
  charging(rig);
  t.equal(offered(rig), 10);
  t.same(rig.plant.pilot, { mode: 'pwm', dutyPct: dutyPctForCurrent(10) });
  rig.clock.advance(startMs + 60_000 - 1 - rig.clock.now());
  t.equal(offered(rig), 10, '1 ms before the boundary: still 10 A');
  rig.clock.advance(1);
  t.same(rig.plant.pilot, { mode: 'pwm', dutyPct: dutyPctForCurrent(16) }, 'at the boundary: 16 A on the pilot');
  rig.clock.advance(startMs + 120_000 - 1 - rig.clock.now());
  t.equal(offered(rig), 16);
  rig.clock.advance(1);
  t.same(rig.plant.pilot, { mode: 'pwm', dutyPct: dutyPctForCurrent(7.5) }, 'a decrease reaches the pilot at the boundary too');
  t.equal(rig.controller.status().offer.limitedBy, 'ocpp');
});

t.test('min() with the Modbus limit: a 10 A profile with Modbus 16 A offers 10 A, with Modbus 8 A offers 8 A', async (t) => {
  const rig = await smartRig();
  rig.startTransaction();
  await rig.set(1, txDefault([{ startPeriod: 0, limit: 10 }], rig.iso()));
  rig.controller.setModbusLimit(16, true);
  charging(rig);
  t.equal(offered(rig), 10);
  t.equal(rig.controller.status().offer.limitedBy, 'ocpp');
  rig.controller.setModbusLimit(8, true);
  t.equal(offered(rig), 8);
  t.equal(rig.controller.status().offer.limitedBy, 'modbus');
  t.equal(await rig.settle(rig.smart.clear({})), 'Accepted');
  t.equal(offered(rig), 8, 'cleared: Modbus alone');
  rig.controller.setModbusLimit(16, true);
  t.equal(offered(rig), 16);
  t.equal(await rig.settle(rig.smart.clear({})), 'Unknown', 'nothing left to clear');
});

t.test('a limit below 6 A pauses (no PWM, SuspendedEVSE) instead of being raised, and charging resumes at the next period', async (t) => {
  const rig = await smartRig();
  const tx = rig.startTransaction();
  charging(rig);
  await rig.set(1, {
    ...txDefault(
      [
        { startPeriod: 0, limit: 4 },
        { startPeriod: 30, limit: 12 },
      ],
      rig.iso(),
    ),
    chargingProfilePurpose: 'TxProfile',
    transactionId: tx.transactionId ?? 0,
  });
  t.not(rig.plant.pilot.mode, 'pwm', 'PWM withdrawn at once');
  t.equal(rig.controller.status().offer.pausedBy, 'belowMinimum');
  rig.until(() => !rig.closed(), 6000);
  const view = connectorStatus({
    charging: rig.controller.status(),
    transactionRunning: true,
    finishing: false,
    inoperative: false,
    reserved: false,
  });
  t.equal(view.status, 'SuspendedEVSE');
  rig.until(() => offered(rig) === 12, 30_000);
  t.pass('12 A from the next period');
});

t.test('W → A with the phases energised: 11 kW on a 3-phase box is 15.9 A, 3680 W on a 1-phase box 16 A', async (t) => {
  const three = await smartRig({ phases: 3 });
  three.startTransaction();
  await three.set(1, txDefault([{ startPeriod: 0, limit: 11000 }], three.iso(), {}, 'W'));
  charging(three);
  t.equal(offered(three), codeableCurrentA(11000 / 690));
  t.equal(offered(three), 15.9);
  const one = await smartRig({ phases: 1 });
  one.startTransaction();
  await one.set(1, txDefault([{ startPeriod: 0, limit: 3680 }], one.iso(), {}, 'W'));
  charging(one);
  t.equal(offered(one), 16);
});

t.test(
  'numberPhases 1 with switching enabled: the box switches to one phase, W is converted with 3 phases until then, and 3 come back when no profile asks',
  async (t) => {
    const rig = await smartRig({ phaseSwitching: { enabled: true, minIntervalS: 0, pauseS: 10 } });
    rig.startTransaction();
    charging(rig);
    await rig.set(1, txDefault([{ startPeriod: 0, limit: 7360, numberPhases: 1 }], rig.iso(), {}, 'W'));
    t.equal(rig.controller.phaseSelection(), 1, 'one phase asked for');
    t.ok(offered(rig) === 0 || offered(rig) <= 7360 / 690, 'never more than W / (230 V × 3) while three phases are energised');
    rig.until(() => rig.controller.status().phases === 1 && offered(rig) > 0, 60_000);
    t.equal(offered(rig), 32, 'on one phase 7360 W is 32 A');
    await rig.settle(rig.smart.clear({ id: 1 }));
    t.equal(rig.controller.phaseSelection(), 3, 'three phases asked back');
    rig.until(() => rig.controller.status().phases === 3 && offered(rig) > 0, 60_000);
    t.equal(offered(rig), 32);
  },
);

t.test('numberPhases 1 without phase switching: no switch, the current stays the 3-phase conversion', async (t) => {
  const rig = await smartRig();
  rig.startTransaction();
  charging(rig);
  await rig.set(1, txDefault([{ startPeriod: 0, limit: 7360, numberPhases: 1 }], rig.iso(), {}, 'W'));
  rig.clock.advance(30_000);
  t.equal(rig.controller.status().phases, 3);
  t.equal(offered(rig), codeableCurrentA(7360 / 690));
});

t.test('TxDefault and TxProfile wait for a transaction; a TxProfile ends with it, the TxDefaultProfile stays', async (t) => {
  const rig = await smartRig();
  await rig.set(1, txDefault([{ startPeriod: 0, limit: 10 }], rig.iso()));
  t.equal(
    await rig.set(1, {
      ...txDefault([{ startPeriod: 0, limit: 8 }], rig.iso()),
      chargingProfileId: 2,
      chargingProfilePurpose: 'TxProfile',
    }),
    'Rejected',
    'no TxProfile without a transaction',
  );
  t.equal(rig.controller.status().offer.limitA, 32, 'no transaction: the TxDefaultProfile does not limit');
  rig.startTransaction();
  charging(rig);
  t.equal(offered(rig), 10);
  t.equal(
    await rig.set(1, {
      ...txDefault([{ startPeriod: 0, limit: 8 }], rig.iso()),
      chargingProfileId: 2,
      chargingProfilePurpose: 'TxProfile',
      transactionId: 7,
    }),
    'Accepted',
  );
  t.equal(offered(rig), 8);
  rig.endTransaction();
  t.same(
    rig.store.profiles.map((e: InstalledProfile) => e.profile.chargingProfileId),
    [1],
    'the TxProfile went with its transaction',
  );
  rig.startTransaction();
  t.equal(offered(rig), 10, 'the next transaction gets the TxDefaultProfile');
});

t.test(
  'RemoteStartTransaction with a TxProfile: in force before the transaction permits charging, so the first PWM already carries it',
  async (t) => {
    const rig = simRig({ ocpp: true });
    const cp = await memoryChargePoint(rig, { url: 'ws://127.0.0.1:9' });
    rig.plant.configureEv({ state: 'C' });
    rig.clock.advance(1000);
    const offers: number[] = [];
    rig.controller.onChange((s) => {
      if (s.pilot.mode === 'pwm') offers.push(s.offeredA);
    });
    const profile: ChargingProfile = {
      ...txDefault([{ startPeriod: 0, limit: 9 }], new Date().toISOString()),
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
    };
    t.equal(cp.transactions.remoteStart('TAG', profile), 'Accepted');
    await rig.waitFor(() => rig.closed(), 5000);
    t.same([...new Set(offers)], [9], 'only 9 A was ever on the pilot');
    t.equal(cp.smartCharging.composite(1, 60).chargingSchedule?.chargingSchedulePeriod[0]?.limit, 9, 'and the composite schedule shows it');
    await cp.transactions.stop('Local');
    t.same(
      cp.smartCharging.composite(1, 60).chargingSchedule?.chargingSchedulePeriod,
      [{ startPeriod: 0, limit: 32 }],
      'gone with its transaction',
    );
    cp.transactions.close();
    cp.smartCharging.stop();
  },
);

t.test(
  'GetCompositeSchedule just after a transaction started within a second: its Relative profile from 0, no moment without it',
  async (t) => {
    const rig = await smartRig();
    rig.clock.advance(700);
    rig.startTransaction({
      ...txDefault([{ startPeriod: 0, limit: 9 }], rig.iso()),
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
    });
    rig.clock.advance(200);
    const answer = rig.smart.composite(1, 60);
    t.same(answer.chargingSchedule?.chargingSchedulePeriod, [{ startPeriod: 0, limit: 9 }]);
    t.equal(answer.scheduleStart, rig.iso(), 'the schedule starts now, to the millisecond');
  },
);

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { pollUntil, startBox, type RunningBox } from '../helpers/firmware-process.js';
import { tcpClient } from '../helpers/modbus-client.js';
import { inMs, plugIn, waitStatus } from '../helpers/ocpp-scenario.js';

/**
 * OCPP smart charging end to end: the built firmware on the simulated board against ocpp-rpc's
 * strict central system, with the energy manager's limit written over Modbus TCP.
 */

const profile = (over: Record<string, any> = {}, schedule: Record<string, any> = {}) => ({
  chargingProfileId: 1,
  stackLevel: 0,
  chargingProfilePurpose: 'TxDefaultProfile',
  chargingProfileKind: 'Absolute',
  ...over,
  chargingSchedule: {
    chargingRateUnit: 'A',
    startSchedule: inMs(-60_000),
    chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }],
    ...schedule,
  },
});

async function rig(t: Test, dir: string, extra: Record<string, any> = {}): Promise<{ cs: CentralSystem; box: RunningBox }> {
  const cs = await startCentralSystem();
  t.teardown(() => cs.close());
  const { ocpp, ...rest } = extra;
  const box = await startBox(dir, { ocpp: { url: cs.url, chargeBoxId: 'box-sc', password: '', fixedIdTag: 'FIXED', ...ocpp }, ...rest });
  t.teardown(() => box.fw.kill());
  await waitStatus(cs, 'Available', 0);
  return { cs, box };
}

const offered = (box: RunningBox, a: number) => pollUntil(box.sim, (s) => s['offeredCurrentA'] === a);

t.test('TxDefaultProfile with the Modbus limit: min() of both, 0 A pauses, ClearChargingProfile restores the Modbus limit', async (t) => {
  const { cs, box } = await rig(t, t.testdir({}));
  const modbus = await tcpClient(box.modbusPort);
  t.teardown(() => modbus.close(() => {}));
  t.same(await cs.call('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile() }), { status: 'Accepted' });
  await modbus.writeRegister(8093, 160);
  await plugIn(box);
  await waitStatus(cs, 'Charging', 0);
  await offered(box, 10);
  t.pass('profile 10 A, Modbus 16 A: 10 A offered');
  await modbus.writeRegister(8093, 80);
  await offered(box, 8);
  t.pass('Modbus 8 A: 8 A offered');
  const from = cs.calls.length;
  t.same(
    await cs.call('SetChargingProfile', {
      connectorId: 1,
      csChargingProfiles: profile({ chargingProfileId: 2 }, { chargingSchedulePeriod: [{ startPeriod: 0, limit: 0 }] }),
    }),
    { status: 'Accepted' },
  );
  await pollUntil(box.sim, (s) => s['pilot'] !== 'pwm');
  await waitStatus(cs, 'SuspendedEVSE', from);
  t.pass('a 0 A profile (replacing the 10 A one) pauses: no PWM, SuspendedEVSE');
  const composite = await cs.call('GetCompositeSchedule', { connectorId: 1, duration: 600 });
  t.match(composite, {
    status: 'Accepted',
    connectorId: 1,
    chargingSchedule: { duration: 600, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 0 }] },
  });
  t.same(await cs.call('ClearChargingProfile', { chargingProfilePurpose: 'TxDefaultProfile' }), { status: 'Accepted' });
  await offered(box, 8);
  t.pass('cleared: the Modbus limit of 8 A again');
  t.same(await cs.call('ClearChargingProfile', { id: 2 }), { status: 'Unknown' }, 'nothing left to clear');
  await modbus.writeRegister(8093, 160);
  await offered(box, 16);
});

t.test('a period boundary changes the pilot duty at the boundary', async (t) => {
  const { cs, box } = await rig(t, t.testdir({}));
  await plugIn(box);
  await waitStatus(cs, 'Charging', 0);
  const boundaryMs = Math.ceil((Date.now() + 2000) / 1000) * 1000;
  const startSchedule = new Date(boundaryMs - 3000).toISOString();
  const periods = [
    { startPeriod: 0, limit: 10 },
    { startPeriod: 3, limit: 13 },
  ];
  t.same(
    await cs.call('SetChargingProfile', {
      connectorId: 1,
      csChargingProfiles: profile({}, { startSchedule, chargingSchedulePeriod: periods }),
    }),
    { status: 'Accepted' },
  );
  await offered(box, 10);
  let changedMs = 0;
  let before = 0;
  while (Date.now() < boundaryMs + 3000) {
    const atMs = Date.now();
    const a = (await box.sim())['offeredCurrentA'] as number;
    if (a === 13) {
      changedMs = atMs;
      break;
    }
    before = atMs;
  }
  t.ok(changedMs > 0, '13 A reached the pilot');
  t.ok(before < boundaryMs + 200, `still 10 A at ${before - boundaryMs} ms from the boundary`);
  t.ok(
    changedMs >= boundaryMs - 100,
    `13 A seen ${changedMs - boundaryMs} ms from the boundary (not before it, beyond the clocks' offset)`,
  );
});

t.test('W profiles become A by the phases energised: 11 kW on a 3-phase box is 15.9 A, 3680 W on a 1-phase box 16 A', async (t) => {
  for (const [phases, watts, amps] of [
    [3, 11000, 15.9],
    [1, 3680, 16],
  ] as const) {
    const { cs, box } = await rig(t, t.testdir({}), { evse: { phases } });
    t.same(
      await cs.call('SetChargingProfile', {
        connectorId: 1,
        csChargingProfiles: profile({}, { chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: watts }] }),
      }),
      { status: 'Accepted' },
    );
    await plugIn(box);
    await offered(box, amps);
    const composite = await cs.call('GetCompositeSchedule', { connectorId: 1, duration: 60, chargingRateUnit: 'W' });
    t.equal(
      composite.chargingSchedule.chargingSchedulePeriod[0].limit,
      watts,
      `${phases}-phase box: ${watts} W ↔ ${amps} A; the composite in W gives it back`,
    );
    await box.fw.kill();
  }
});

t.test(
  'RemoteStartTransaction with a TxProfile: charging starts at its limit; one that is not a TxProfile is Rejected (TC_059_CS, TC_060_CS)',
  async (t) => {
    const { cs, box } = await rig(t, t.testdir({}), { ocpp: { fixedIdTag: '' } });
    t.same(
      await cs.call('RemoteStartTransaction', { idTag: 'REM', chargingProfile: profile({ chargingProfilePurpose: 'TxDefaultProfile' }) }),
      { status: 'Rejected' },
    );
    t.same(
      await cs.call('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile({ chargingProfilePurpose: 'TxProfile' }) }),
      { status: 'Rejected' },
      'no TxProfile without a transaction (TC_058_1_CS)',
    );
    const txProfile = {
      chargingProfileId: 9,
      stackLevel: 0,
      chargingProfilePurpose: 'TxProfile',
      chargingProfileKind: 'Relative',
      chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 9 }] },
    };
    t.same(await cs.call('RemoteStartTransaction', { idTag: 'REM', chargingProfile: txProfile }), { status: 'Accepted' });
    await plugIn(box);
    const seen = new Set<number>();
    await pollUntil(box.sim, (s) => {
      if (s['pilot'] === 'pwm') seen.add(s['offeredCurrentA'] as number);
      return s['relayClosed'] === true;
    });
    t.same([...seen], [9], 'the PWM came on at 9 A');
    const start = await cs.waitForCall('StartTransaction', (p) => p['idTag'] === 'REM');
    t.ok(start);
    const composite = await cs.call('GetCompositeSchedule', { connectorId: 1, duration: 60 });
    t.same(composite.chargingSchedule.chargingSchedulePeriod, [{ startPeriod: 0, limit: 9 }]);
  },
);

t.test(
  'configuration keys; a unit the operator disallowed is Rejected; profiles survive a restart, TxProfiles do not; turning OCPP off removes them',
  async (t) => {
    const dir = t.testdir({});
    let { cs, box } = await rig(t, dir);
    const config = await cs.call('GetConfiguration', {
      key: [
        'SupportedFeatureProfiles',
        'ChargeProfileMaxStackLevel',
        'ChargingScheduleAllowedChargingRateUnit',
        'ChargingScheduleMaxPeriods',
        'MaxChargingProfilesInstalled',
        'ConnectorSwitch3to1PhaseSupported',
      ],
    });
    t.same(Object.fromEntries(config.configurationKey.map((k: { key: string; value: string }) => [k.key, k.value])), {
      SupportedFeatureProfiles: 'Core,LocalAuthListManagement,Reservation,RemoteTrigger,SmartCharging',
      ChargeProfileMaxStackLevel: '8',
      ChargingScheduleAllowedChargingRateUnit: 'Current,Power',
      ChargingScheduleMaxPeriods: '96',
      MaxChargingProfilesInstalled: '16',
      ConnectorSwitch3to1PhaseSupported: 'false',
    });
    t.same(await cs.call('ChangeConfiguration', { key: 'ChargingScheduleAllowedChargingRateUnit', value: 'Current' }), {
      status: 'Accepted',
    });
    t.same(
      await cs.call('SetChargingProfile', {
        connectorId: 1,
        csChargingProfiles: profile({}, { chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 5000 }] }),
      }),
      { status: 'Rejected' },
    );
    t.same(await cs.call('ChangeConfiguration', { key: 'ChargingScheduleAllowedChargingRateUnit', value: 'Current,Power' }), {
      status: 'Accepted',
    });
    t.same(
      await cs.call('SetChargingProfile', {
        connectorId: 0,
        csChargingProfiles: profile(
          { chargingProfileId: 1, chargingProfilePurpose: 'ChargePointMaxProfile' },
          { chargingSchedulePeriod: [{ startPeriod: 0, limit: 20 }] },
        ),
      }),
      { status: 'Accepted' },
    );
    t.same(
      await cs.call('SetChargingProfile', {
        connectorId: 1,
        csChargingProfiles: profile({ chargingProfileId: 2 }, { chargingSchedulePeriod: [{ startPeriod: 0, limit: 12 }] }),
      }),
      { status: 'Accepted' },
    );
    await plugIn(box);
    await cs.waitForCall('StartTransaction');
    t.same(
      await cs.call('SetChargingProfile', {
        connectorId: 1,
        csChargingProfiles: profile(
          { chargingProfileId: 3, chargingProfilePurpose: 'TxProfile' },
          { chargingSchedulePeriod: [{ startPeriod: 0, limit: 7 }] },
        ),
      }),
      { status: 'Accepted' },
      'a TxProfile without transactionId applies to the running transaction',
    );
    await offered(box, 7);
    t.equal(await box.fw.stop(), 0, 'clean stop');
    ({ cs, box } = await rig(t, dir));
    const composite = await cs.call('GetCompositeSchedule', { connectorId: 1, duration: 60 });
    t.same(
      composite.chargingSchedule.chargingSchedulePeriod,
      [{ startPeriod: 0, limit: 12 }],
      'after the restart: the TxDefaultProfile (12 A) under the 20 A cap; the TxProfile ended with its transaction',
    );
    await box.fw.stop();
    t.ok(existsSync(join(dir, 'data', 'ocpp-charging-profiles.json')));
    const off = await startBox(dir, { ocpp: null });
    await off.fw.stop();
    t.notOk(existsSync(join(dir, 'data', 'ocpp-charging-profiles.json')), 'OCPP off in the config: the profiles are removed');
    ({ cs, box } = await rig(t, dir));
    const empty = await cs.call('GetCompositeSchedule', { connectorId: 0, duration: 60, chargingRateUnit: 'A' });
    t.same(empty.chargingSchedule.chargingSchedulePeriod, [{ startPeriod: 0, limit: 32 }], 'and stay gone when it is turned on again');
    t.same(
      await cs.call('GetCompositeSchedule', { connectorId: 2, duration: 60 }),
      { status: 'Rejected' },
      'an unknown connector is Rejected',
    );
  },
);

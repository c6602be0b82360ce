import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { simSnapshot } from '../../board/sim-control-api.js';
import { parseConfig } from '../../firmware/config.js';
import { Firmware } from '../../firmware/firmware.js';
import { silentLogger } from '../../firmware/log.js';
import { createSimHal } from '../../hal/sim/peripherals.js';
import { SimPlant } from '../../hal/sim/plant.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { tcpClient } from '../helpers/modbus-client.js';
import { ocppRig, ocppRigFor, type OcppRig, type OcppRigOptions } from '../helpers/ocpp-rig.js';
import { rigLogs, settled } from '../helpers/rig-extras.js';

/**
 * OCPP smart charging end to end, in process: the firmware core on the simulated board and clock
 * against ocpp-rpc's strict central system over real WebSockets, with the energy manager's limit
 * written over Modbus TCP (a real client on loopback). What the car is offered is read as
 * `GET /sim` shows it (`simSnapshot`).
 */

/** A charging profile whose schedule started a minute before OCPP time `nowMs`. */
const profile = (nowMs: number, over: Record<string, any> = {}, schedule: Record<string, any> = {}) => ({
  chargingProfileId: 1,
  stackLevel: 0,
  chargingProfilePurpose: 'TxDefaultProfile',
  chargingProfileKind: 'Absolute',
  ...over,
  chargingSchedule: {
    chargingRateUnit: 'A',
    startSchedule: new Date(nowMs - 60_000).toISOString(),
    chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }],
    ...schedule,
  },
});

/** The rig with this file's OCPP defaults; on `dir` (a restart) or on the test's own folder. */
function rig(t: Test, options: OcppRigOptions = {}, dir?: string): Promise<OcppRig> {
  const withDefaults = { ...options, ocpp: { chargeBoxId: 'box-sc', fixedIdTag: 'FIXED', ...options.ocpp } };
  // On the test's folder the rig's teardown comes before the folder's: never removed under a running firmware.
  return dir === undefined ? ocppRigFor(t, withDefaults) : ocppRig(dir, withDefaults);
}

const sim = (rig: OcppRig) => simSnapshot(rig.plant);
const offered = (rig: OcppRig, a: number) => rig.pace(() => sim(rig)['offeredCurrentA'] === a, 10_000);

t.test('TxDefaultProfile with the Modbus limit: min() of both, 0 A pauses, ClearChargingProfile restores the Modbus limit', async (t) => {
  const logs = rigLogs('info');
  const box = await rig(t, { log: logs.logger, config: { modbus: { tcp: { host: '127.0.0.1', port: 0 } } } });
  const port = Number(logs.find((l) => l['msg'] === 'Modbus TCP listening')?.['port']);
  const modbus = await tcpClient(port);
  t.teardown(() => modbus.close(() => {}));
  const write = (register: number, value: number) => settled(box, modbus.writeRegister(register, value));
  const now = box.clock.now();
  t.same(await box.call('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile(now) }), { status: 'Accepted' });
  await write(8093, 160);
  box.car('C');
  await box.waitStatus('Charging', 0);
  await offered(box, 10);
  t.pass('profile 10 A, Modbus 16 A: 10 A offered');
  await write(8093, 80);
  await offered(box, 8);
  t.pass('Modbus 8 A: 8 A offered');
  const from = box.cs.calls.length;
  t.same(
    await box.call('SetChargingProfile', {
      connectorId: 1,
      csChargingProfiles: profile(now, { chargingProfileId: 2 }, { chargingSchedulePeriod: [{ startPeriod: 0, limit: 0 }] }),
    }),
    { status: 'Accepted' },
  );
  await box.pace(() => sim(box)['pilot'] !== 'pwm', 10_000);
  await box.waitStatus('SuspendedEVSE', from);
  t.pass('a 0 A profile (replacing the 10 A one) pauses: no PWM, SuspendedEVSE');
  const composite = await box.call('GetCompositeSchedule', { connectorId: 1, duration: 600 });
  t.match(composite, {
    status: 'Accepted',
    connectorId: 1,
    chargingSchedule: { duration: 600, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 0 }] },
  });
  t.same(await box.call('ClearChargingProfile', { chargingProfilePurpose: 'TxDefaultProfile' }), { status: 'Accepted' });
  await offered(box, 8);
  t.pass('cleared: the Modbus limit of 8 A again');
  t.same(await box.call('ClearChargingProfile', { id: 2 }), { status: 'Unknown' }, 'nothing left to clear');
  await write(8093, 160);
  await offered(box, 16);
});

t.test('a period boundary changes the pilot duty at the boundary', async (t) => {
  const box = await rig(t);
  box.car('C');
  await box.waitStatus('Charging', 0);
  const boundaryMs = Math.ceil((box.clock.now() + 2000) / 1000) * 1000;
  const startSchedule = new Date(boundaryMs - 3000).toISOString();
  const periods = [
    { startPeriod: 0, limit: 10 },
    { startPeriod: 3, limit: 13 },
  ];
  t.same(
    await box.call('SetChargingProfile', {
      connectorId: 1,
      csChargingProfiles: profile(box.clock.now(), {}, { startSchedule, chargingSchedulePeriod: periods }),
    }),
    { status: 'Accepted' },
  );
  await offered(box, 10);
  let changedMs = 0;
  let before = 0;
  // Sampled at every step of simulated time (50 ms, the control loop's period).
  await box
    .pace(
      () => {
        const a = sim(box)['offeredCurrentA'];
        if (a === 13) changedMs = box.clock.now();
        else before = box.clock.now();
        return a === 13;
      },
      boundaryMs + 3000 - box.clock.now(),
    )
    .catch(() => {});
  t.ok(changedMs > 0, '13 A reached the pilot');
  t.ok(before < boundaryMs + 200, `still 10 A at ${before - boundaryMs} ms from the boundary`);
  t.ok(changedMs >= boundaryMs, `13 A seen ${changedMs - boundaryMs} ms from the boundary (not before it: one clock)`);
});

t.test('W profiles become A by the phases energised: 11 kW on a 3-phase box is 15.9 A, 3680 W on a 1-phase box 16 A', async (t) => {
  for (const [phases, watts, amps] of [
    [3, 11000, 15.9],
    [1, 3680, 16],
  ] as const)
    await t.test(`${phases}-phase box`, async (t) => {
      const box = await rig(t, { config: { evse: { phases } } });
      t.same(
        await box.call('SetChargingProfile', {
          connectorId: 1,
          csChargingProfiles: profile(
            box.clock.now(),
            {},
            { chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: watts }] },
          ),
        }),
        { status: 'Accepted' },
      );
      box.car('C');
      await offered(box, amps);
      const composite = await box.call('GetCompositeSchedule', { connectorId: 1, duration: 60, chargingRateUnit: 'W' });
      t.equal(
        composite.chargingSchedule.chargingSchedulePeriod[0].limit,
        watts,
        `${phases}-phase box: ${watts} W ↔ ${amps} A; the composite in W gives it back`,
      );
    });
});

t.test(
  'RemoteStartTransaction with a TxProfile: charging starts at its limit; one that is not a TxProfile is Rejected (TC_059_CS, TC_060_CS)',
  async (t) => {
    const box = await rig(t, { ocpp: { fixedIdTag: '' } });
    const now = box.clock.now();
    t.same(
      await box.call('RemoteStartTransaction', {
        idTag: 'REM',
        chargingProfile: profile(now, { chargingProfilePurpose: 'TxDefaultProfile' }),
      }),
      { status: 'Rejected' },
    );
    t.same(
      await box.call('SetChargingProfile', { connectorId: 1, csChargingProfiles: profile(now, { chargingProfilePurpose: 'TxProfile' }) }),
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
    t.same(await box.call('RemoteStartTransaction', { idTag: 'REM', chargingProfile: txProfile }), { status: 'Accepted' });
    box.car('C');
    const seen = new Set<number>();
    await box.pace(() => {
      const s = sim(box);
      if (s['pilot'] === 'pwm') seen.add(s['offeredCurrentA'] as number);
      return s['relayClosed'] === true;
    }, 10_000);
    t.same([...seen], [9], 'the PWM came on at 9 A');
    const start = await box.waitCall('StartTransaction', (p) => p['idTag'] === 'REM');
    t.ok(start);
    const composite = await box.call('GetCompositeSchedule', { connectorId: 1, duration: 60 });
    t.same(composite.chargingSchedule.chargingSchedulePeriod, [{ startPeriod: 0, limit: 9 }]);
  },
);

/** The firmware on `dir` without OCPP in its config, started and stopped (on its own simulated clock). */
async function runWithoutOcpp(dir: string): Promise<void> {
  const clock = new SimulatedClock({ startMs: Date.now() });
  const firmware = new Firmware({
    config: parseConfig({ dataDir: dir, modbus: { tcp: null }, http: null, ocpp: null }),
    hal: createSimHal(new SimPlant({ clock, wiredPhases: 3, voltageV: 230 })),
    clock,
    log: silentLogger,
    bootId: 'boot-1',
  });
  await firmware.start();
  let stopped = false;
  const stopping = firmware.stop().finally(() => (stopped = true));
  for (let i = 0; !stopped && i < 1200; i++) {
    clock.advance(50);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await stopping;
}

t.test(
  'configuration keys; a unit the operator disallowed is Rejected; profiles survive a restart, TxProfiles do not; turning OCPP off removes them',
  async (t) => {
    let box = await rig(t);
    const dir = t.testdirName;
    const now = box.clock.now();
    const config = await box.call('GetConfiguration', {
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
    t.same(await box.call('ChangeConfiguration', { key: 'ChargingScheduleAllowedChargingRateUnit', value: 'Current' }), {
      status: 'Accepted',
    });
    t.same(
      await box.call('SetChargingProfile', {
        connectorId: 1,
        csChargingProfiles: profile(now, {}, { chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 5000 }] }),
      }),
      { status: 'Rejected' },
    );
    t.same(await box.call('ChangeConfiguration', { key: 'ChargingScheduleAllowedChargingRateUnit', value: 'Current,Power' }), {
      status: 'Accepted',
    });
    t.same(
      await box.call('SetChargingProfile', {
        connectorId: 0,
        csChargingProfiles: profile(
          now,
          { chargingProfileId: 1, chargingProfilePurpose: 'ChargePointMaxProfile' },
          { chargingSchedulePeriod: [{ startPeriod: 0, limit: 20 }] },
        ),
      }),
      { status: 'Accepted' },
    );
    t.same(
      await box.call('SetChargingProfile', {
        connectorId: 1,
        csChargingProfiles: profile(now, { chargingProfileId: 2 }, { chargingSchedulePeriod: [{ startPeriod: 0, limit: 12 }] }),
      }),
      { status: 'Accepted' },
    );
    box.car('C');
    await box.waitCall('StartTransaction');
    t.same(
      await box.call('SetChargingProfile', {
        connectorId: 1,
        csChargingProfiles: profile(
          now,
          { chargingProfileId: 3, chargingProfilePurpose: 'TxProfile' },
          { chargingSchedulePeriod: [{ startPeriod: 0, limit: 7 }] },
        ),
      }),
      { status: 'Accepted' },
      'a TxProfile without transactionId applies to the running transaction',
    );
    await offered(box, 7);
    await box.close();
    box = await rig(t, {}, dir);
    const restarted = box;
    t.teardown(() => restarted.close());
    const composite = await box.call('GetCompositeSchedule', { connectorId: 1, duration: 60 });
    t.same(
      composite.chargingSchedule.chargingSchedulePeriod,
      [{ startPeriod: 0, limit: 12 }],
      'after the restart: the TxDefaultProfile (12 A) under the 20 A cap; the TxProfile ended with its transaction',
    );
    await box.close();
    t.ok(existsSync(join(dir, 'ocpp-charging-profiles.json')));
    await runWithoutOcpp(dir);
    t.notOk(existsSync(join(dir, 'ocpp-charging-profiles.json')), 'OCPP off in the config: the profiles are removed');
    box = await rig(t, {}, dir);
    const again = box;
    t.teardown(() => again.close());
    const empty = await box.call('GetCompositeSchedule', { connectorId: 0, duration: 60, chargingRateUnit: 'A' });
    t.same(empty.chargingSchedule.chargingSchedulePeriod, [{ startPeriod: 0, limit: 32 }], 'and stay gone when it is turned on again');
    t.same(
      await box.call('GetCompositeSchedule', { connectorId: 2, duration: 60 }),
      { status: 'Rejected' },
      'an unknown connector is Rejected',
    );
    await box.close();
  },
);

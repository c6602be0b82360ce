import t from 'tap';
import { parseConfig } from '../../firmware/config.js';
import { Firmware } from '../../firmware/firmware.js';
import { silentLogger } from '../../firmware/log.js';
import { OfflineLimit } from '../../firmware/ocpp/offline-limit.js';
import { createSimHal } from '../../hal/sim/peripherals.js';
import { SimPlant } from '../../hal/sim/plant.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { freePort, inMs, sleep } from '../helpers/ocpp-scenario.js';

t.test('OfflineLimit on the simulated clock: applies after offlineAfterS without an answer, ends at the first answer', async (t) => {
  const clock = new SimulatedClock();
  let changes = 0;
  const limit = new OfflineLimit({ limitA: 10, afterS: 60, clock, log: silentLogger, onChange: () => changes++ });
  limit.unreachable();
  clock.advance(59_999);
  t.equal(limit.limitA, null, '59.999 s unreachable: not yet');
  limit.unreachable();
  clock.advance(1);
  t.equal(limit.limitA, 10, '60 s: the limit applies (a second "unreachable" did not restart the countdown)');
  t.equal(changes, 1);
  limit.unreachable();
  clock.advance(600_000);
  t.equal(limit.limitA, 10, 'it stays while nothing answers');
  limit.reached();
  t.equal(limit.limitA, null, 'an accepted Boot or Heartbeat ends it at once');
  t.equal(changes, 2);
  limit.unreachable();
  clock.advance(30_000);
  limit.reached();
  clock.advance(60_000);
  t.equal(limit.limitA, null, 'an answer within offlineAfterS stops the countdown');
  t.equal(changes, 2);
  limit.unreachable();
  limit.stop();
  clock.advance(120_000);
  t.equal(limit.limitA, null, 'stopped: no timer left');
});

const profile = (limitA: number, id: number) => ({
  connectorId: 1,
  csChargingProfiles: {
    chargingProfileId: id,
    stackLevel: 0,
    chargingProfilePurpose: 'TxDefaultProfile',
    chargingProfileKind: 'Absolute',
    chargingSchedule: { chargingRateUnit: 'A', startSchedule: inMs(-60_000), chargingSchedulePeriod: [{ startPeriod: 0, limit: limitA }] },
  },
});

t.test(
  'the central system goes away: ocpp.offlineLimitA after ocpp.offlineAfterS, ended by the Heartbeat after the reconnect; profiles stay stored',
  async (t) => {
    const dataDir = t.testdir();
    const port = await freePort();
    let cs: CentralSystem = await startCentralSystem({ port });
    t.teardown(() => cs.close());
    const clock = new SimulatedClock();
    const plant = new SimPlant({ clock, wiredPhases: 3, voltageV: 230 });
    const config = parseConfig({
      dataDir,
      modbus: { tcp: null },
      http: null,
      ocpp: {
        url: `ws://127.0.0.1:${port}/ocpp`,
        chargeBoxId: 'box-offline-limit',
        fixedIdTag: 'FIXED',
        offlineLimitA: 10,
        offlineAfterS: 60,
      },
    });
    const firmware = new Firmware({ config, hal: createSimHal(plant), clock, log: silentLogger, tickMs: 100, bootId: 'boot-1' });
    await firmware.start();
    const pace = async (done: () => boolean, stepMs: number, realLimitMs: number): Promise<number> => {
      const startMs = clock.now();
      const deadline = Date.now() + realLimitMs;
      while (!done()) {
        if (Date.now() > deadline) throw new Error('not reached in time');
        clock.advance(stepMs);
        await sleep(1);
      }
      return clock.now() - startMs;
    };
    const offered = () => firmware.charging.status().offeredA;
    const limitedBy = () => firmware.charging.status().offer.limitedBy;
    const cp = () => firmware.chargePoint!;

    await pace(() => cp().online, 100, 10_000);
    t.same(await cs.call('SetChargingProfile', profile(20, 1)), { status: 'Accepted' });
    plant.configureEv({ state: 'C' });
    await pace(() => plant.contactorCommanded && offered() === 20, 100, 10_000);
    t.pass("online: charging at the profile's 20 A");

    await cs.close();
    await pace(() => !cp().online, 100, 10_000);
    const lostAt = clock.now();
    await pace(() => clock.now() - lostAt >= 59_000, 1000, 20_000);
    t.equal(offered(), 20, '59 s after the link went down: still 20 A');
    await pace(() => offered() === 10, 100, 10_000);
    const appliedAfterMs = clock.now() - lostAt;
    t.ok(appliedAfterMs >= 60_000 && appliedAfterMs <= 61_000, `10 A (ocpp.offlineLimitA) ${appliedAfterMs} ms after the link went down`);
    t.equal(limitedBy(), 'ocpp');
    t.equal(cp().offlineLimitActive, true);
    t.equal(plant.contactorCommanded, true, 'charging goes on at the lower limit');
    t.equal(cp().smartCharging.composite(1, 60).chargingSchedule?.chargingSchedulePeriod[0]?.limit, 20, 'the 20 A profile stays stored');

    cs = await startCentralSystem({ port });
    const heartbeat = cs.waitForCall('Heartbeat', undefined, { timeoutMs: 30_000 });
    await pace(() => offered() === 20, 100, 30_000);
    await heartbeat;
    t.equal(cp().offlineLimitActive, false, 'the Heartbeat sent at the reconnect was accepted: the limit ends');
    t.same(
      cs.calls.map((c) => c.action).filter((a) => a === 'BootNotification'),
      [],
      'no new BootNotification: the one of this start was accepted',
    );
    t.pass("back to the profile's 20 A");

    // It only ever lowers: a profile below the offline limit stays in force while offline.
    t.same(await cs.call('SetChargingProfile', profile(8, 2)), { status: 'Accepted' });
    await pace(() => offered() === 8, 100, 10_000);
    await cs.close();
    await pace(() => cp().offlineLimitActive, 1000, 20_000);
    t.equal(offered(), 8, 'offline limit 10 A over an 8 A profile: 8 A');

    let stopped = false;
    const stopping = firmware.stop().then(() => (stopped = true));
    await pace(() => stopped, 100, 10_000);
    await stopping;
  },
);

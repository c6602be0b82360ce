import t from 'tap';
import { simSnapshot } from '../../board/sim-control-api.js';
import { parseConfig } from '../../firmware/config.js';
import { startCentralSystem } from '../helpers/central-system.js';
import { ocppRigFor } from '../helpers/ocpp-rig.js';
import { gate } from '../helpers/gate.js';

/**
 * New OCPP settings at run time (the web page's OCPP form, `Firmware.applyOcpp`) while a car stays
 * plugged in: the transaction ends with Reboot on the old central system, and the new charge
 * point starts one on the new central system for the car that is already there, with the fixed
 * idTag. In process on the simulated board and clock.
 */

const FIXED = 'OWNER01';

/** The OCPP settings the web page's form would apply: `url`, the fixed idTag kept. */
function settingsFor(url: string) {
  return parseConfig({ ocpp: { url, chargeBoxId: 'conformance', fixedIdTag: FIXED } }).ocpp;
}

for (const car of ['B', 'C'] as const) {
  t.test(`car in ${car}: a new URL ends the transaction with Reboot and the new central system gets one for the same car`, async (t) => {
    const second = await startCentralSystem();
    t.teardown(() => second.close());
    const rig = await ocppRigFor(t, { ocpp: { fixedIdTag: FIXED } });
    rig.car(car);
    const first = await rig.waitCall('StartTransaction');
    t.match(first.params, { connectorId: 1, idTag: FIXED });
    await rig.waitStatus(car === 'C' ? 'Charging' : 'SuspendedEV');
    // Settled: the charging core has nothing new to report when the new charge point subscribes.
    await rig.advance(5_000);

    let applied = false;
    const applying = rig.firmware.applyOcpp(settingsFor(second.url)).finally(() => (applied = true));
    await rig.pace(() => applied);
    await applying;
    t.match(rig.since(0, 'StopTransaction')[0]?.params, { reason: 'Reboot', idTag: FIXED }, 'the old transaction ended with Reboot');
    await rig.pace(() => second.calls.some((c) => c.action === 'StartTransaction'), 60_000);
    t.match(
      second.calls.find((c) => c.action === 'StartTransaction')?.params,
      { connectorId: 1, idTag: FIXED },
      'a new transaction for the car',
    );
    if (car === 'C') {
      await rig.pace(() => simSnapshot(rig.plant)['relayClosed'] === true, 10_000);
      t.pass('and it charges again');
    }
  });
}

t.test('OCPP switched off while the start for a plugged-in car waits for its Authorize: nothing starts, nothing throws', async (t) => {
  let answer: (reply: Record<string, unknown>) => void = () => {};
  const rig = await ocppRigFor(t, { ocpp: { fixedIdTag: FIXED } });
  rig.cs.handlers['Authorize'] = () => new Promise((resolve) => (answer = resolve));
  rig.car('C');
  await rig.waitCall('Authorize');

  let applied = false;
  const applying = rig.firmware.applyOcpp(null).finally(() => (applied = true));
  await rig.pace(() => applied);
  await applying;
  answer({ idTagInfo: { status: 'Accepted' } });
  // Long enough for the Authorize to time out and the offline rules to decide.
  await rig.advance(60_000);
  t.same(rig.since(0, 'StartTransaction'), [], 'no StartTransaction');
  t.equal(rig.firmware.chargePoint, null);
  t.equal(rig.firmware.charging.status().offer.pausedBy, null, 'without OCPP the car charges without a transaction');
});

t.test(
  'new settings while the signing meter begins its transaction: the start completes on the old central system, then ends with Reboot',
  async (t) => {
    const second = await startCentralSystem();
    t.teardown(() => second.close());
    const rig = await ocppRigFor(t, { ocpp: { fixedIdTag: FIXED }, config: { sim: { signedMeter: true } } });
    const meter = rig.hal.meter.signing!;
    const begin = meter.beginTransaction.bind(meter);
    let beginCalled = false;
    const held = gate();
    meter.beginTransaction = async (identification) => {
      beginCalled = true;
      await held.opened;
      return begin(identification);
    };
    rig.car('C');
    await rig.pace(() => beginCalled);

    let applied = false;
    const applying = rig.firmware.applyOcpp(settingsFor(second.url)).finally(() => (applied = true));
    await rig.advance(1_000);
    t.notOk(applied, 'the stop waits for the start under way');
    held.open();
    await rig.pace(() => applied);
    await applying;
    const [start] = rig.since(0, 'StartTransaction');
    t.match(start?.params, { idTag: FIXED }, 'the begun transaction was started');
    t.match(rig.since(0, 'StopTransaction')[0]?.params, { transactionId: Number, reason: 'Reboot' }, 'and stopped with Reboot');
    await rig.pace(() => second.calls.some((c) => c.action === 'StartTransaction'), 60_000);
    t.pass('the new central system gets a transaction for the car');
  },
);

import t, { type Test } from 'tap';
import { ocppRigFor } from '../helpers/ocpp-rig.js';
import { sequence, since, statuses } from '../helpers/ocpp-scenario.js';
import { carSteps, numberedStarts } from '../helpers/rig-extras.js';

/**
 * CONTRACT §5: the central system's remote commands, in process on the simulated board and clock
 * against the strict central system, the cases in order on one box. RemoteStart / RemoteStop,
 * Reset Soft and Hard during a transaction (StopTransaction SoftReset / HardReset, then a new
 * BootNotification) and UnlockConnector during a transaction (UnlockCommand).
 */

t.test('remote commands, one box', async (t) => {
  const starts = numberedStarts(600);
  const rig = await ocppRigFor(t, { ocpp: { chargeBoxId: 'box-remote', fixedIdTag: '' }, prepare: (cs) => starts.prepare(cs) });
  const { relayIs, unplug } = carSteps(rig);

  /** RemoteStart with the car plugged in; resolves with the StartTransaction's transactionId once it runs. */
  async function remoteStartCharging(t: Test, idTag: string): Promise<number> {
    const from = rig.cs.calls.length;
    t.same(await rig.call('RemoteStartTransaction', { connectorId: 1, idTag }), { status: 'Accepted' }, `RemoteStart ${idTag} Accepted`);
    const start = await rig.waitCall('StartTransaction', (p) => p['idTag'] === idTag, from);
    t.match(start.params, { connectorId: 1, idTag });
    await relayIs(true);
    return starts.last;
  }

  let tx1 = 0;
  await t.test('RemoteStartTransaction (Accepted) before the car, then plug-in: StartTransaction with that idTag, Charging', async (t) => {
    const from = rig.cs.calls.length;
    t.same(await rig.call('RemoteStartTransaction', { connectorId: 1, idTag: 'REM1' }), { status: 'Accepted' });
    await rig.advance(500);
    t.same(since(rig.cs, from, 'StartTransaction'), [], 'no transaction before the car is there');
    rig.car('C');
    const start = await rig.waitCall('StartTransaction', () => true, from);
    t.match(start.params, { connectorId: 1, idTag: 'REM1' });
    tx1 = starts.last;
    await rig.waitStatus('Charging', from);
    await relayIs(true);
    t.same(since(rig.cs, from, 'Authorize'), [], 'no Authorize: AuthorizeRemoteTxRequests is false by default');
    const order = sequence(rig.cs, from);
    t.ok(
      order.indexOf('Preparing') < order.indexOf('StartTransaction(REM1)') &&
        order.indexOf('StartTransaction(REM1)') < order.indexOf('Charging'),
      `sequence: ${order.join(' → ')}`,
    );
  });

  await t.test('RemoteStartTransaction while a transaction runs: Rejected, nothing else sent', async (t) => {
    const from = rig.cs.calls.length;
    t.same(await rig.call('RemoteStartTransaction', { connectorId: 1, idTag: 'REM2' }), { status: 'Rejected' });
    t.same(await rig.call('RemoteStartTransaction', { idTag: 'REM2' }), { status: 'Rejected' }, 'without connectorId too');
    await rig.advance(500);
    t.same(since(rig.cs, from, 'StartTransaction'), []);
    t.same(since(rig.cs, from, 'StopTransaction'), []);
    t.ok(rig.plant.contactorCommanded, 'still charging');
  });

  await t.test('RemoteStopTransaction with a wrong transactionId: Rejected, the transaction goes on', async (t) => {
    const from = rig.cs.calls.length;
    t.same(await rig.call('RemoteStopTransaction', { transactionId: tx1 + 1000 }), { status: 'Rejected' });
    await rig.advance(500);
    t.same(since(rig.cs, from, 'StopTransaction'), []);
    t.ok(rig.plant.contactorCommanded, 'still charging');
  });

  await t.test('RemoteStopTransaction with the right transactionId: Accepted, StopTransaction reason Remote, Finishing', async (t) => {
    const from = rig.cs.calls.length;
    t.same(await rig.call('RemoteStopTransaction', { transactionId: tx1 }), { status: 'Accepted' });
    const stop = await rig.waitCall('StopTransaction', () => true, from);
    t.match(stop.params, { transactionId: tx1, idTag: 'REM1', reason: 'Remote' });
    await relayIs(false);
    await rig.waitStatus('Finishing', from);
    const order = sequence(rig.cs, from);
    t.ok(order.indexOf('StopTransaction(Remote)') < order.indexOf('Finishing'), `sequence: ${order.join(' → ')}`);
    // OCPP 1.6 §4.10: the normal end of the transaction unlocks the cable; nothing is energised until the car is plugged in anew.
    await rig.pace(() => rig.plant.lockCommanded === false, 10_000);
    await unplug();
    rig.car('C');
  });

  for (const [type, idTag] of [
    ['Soft', 'REM3'],
    ['Hard', 'REM4'],
  ] as const) {
    await t.test(
      `Reset ${type} during a transaction: Accepted, StopTransaction reason ${type}Reset, then a new BootNotification`,
      async (t) => {
        const tx = await remoteStartCharging(t, idTag);
        const from = rig.cs.calls.length;
        t.same(await rig.call('Reset', { type }), { status: 'Accepted' });
        const stop = await rig.waitCall('StopTransaction', () => true, from);
        t.match(stop.params, { transactionId: tx, idTag, reason: `${type}Reset` });
        const boot = await rig.waitCall('BootNotification', () => true, from);
        t.ok(boot.atMs >= stop.atMs, 'the BootNotification follows the StopTransaction');
        await rig.waitCall('StatusNotification', (p) => p['connectorId'] === 1, rig.cs.calls.indexOf(boot));
        await relayIs(false);
        await rig.advance(1500);
        const stops = since(rig.cs, from, 'StopTransaction');
        t.equal(stops.length, 1, `one StopTransaction for transaction ${tx}; saw ${JSON.stringify(stops.map((s) => s.params))}`);
        t.same(since(rig.cs, from, 'StartTransaction'), [], 'no new transaction after the reset (no fixed idTag)');
        t.comment(`sequence: ${sequence(rig.cs, from).join(' → ')}`);
      },
    );
  }

  await t.test('UnlockConnector during a transaction: StopTransaction reason UnlockCommand, answer Unlocked, plug released', async (t) => {
    const started = rig.cs.calls.length;
    const tx = await remoteStartCharging(t, 'REM5');
    await rig.waitStatus('Charging', started);
    const from = rig.cs.calls.length;
    const answer = await rig.call('UnlockConnector', { connectorId: 1 });
    t.same(answer, { status: 'Unlocked' });
    const stop = await rig.waitCall('StopTransaction', () => true, from);
    t.match(stop.params, { transactionId: tx, idTag: 'REM5', reason: 'UnlockCommand' });
    await rig.pace(() => rig.plant.lockCommanded === false, 10_000);
    t.equal(rig.plant.contactorCommanded, false, 'the contactor is open');
    t.equal(since(rig.cs, from, 'StopTransaction').length, 1);
    t.notOk(statuses(rig.cs, from).includes('Charging'), `statuses: ${statuses(rig.cs, from).join(', ')}`);
    await unplug();
  });
});

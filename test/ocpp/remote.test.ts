import t, { type Test } from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { pollUntil, startBox, type RunningBox } from '../helpers/firmware-process.js';
import { plugIn, sequence, since, sleep, statuses, unplug, waitRelay, waitStatus } from '../helpers/ocpp-scenario.js';

/**
 * CONTRACT §5 on the built firmware: the central system's remote commands. RemoteStart /
 * RemoteStop, Reset Soft and Hard during a transaction (StopTransaction SoftReset / HardReset,
 * then a new BootNotification) and UnlockConnector during a transaction (UnlockCommand).
 */

let cs: CentralSystem;
let box: RunningBox;
let lastTransactionId = 0;
t.before(async () => {
  cs = await startCentralSystem();
  let next = 600;
  cs.handlers.StartTransaction = () => ({ transactionId: (lastTransactionId = ++next), idTagInfo: { status: 'Accepted' } });
  box = await startBox(t.testdir({}), { ocpp: { url: cs.url, chargeBoxId: 'box-remote', password: '', fixedIdTag: '' } });
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1 && p['status'] === 'Available');
});
t.teardown(async () => {
  await box?.fw.kill();
  await cs?.close();
});

/** RemoteStart with the car plugged in; resolves with the StartTransaction's transactionId once it runs. */
async function remoteStartCharging(t: Test, idTag: string): Promise<number> {
  const from = cs.calls.length;
  t.same(await cs.call('RemoteStartTransaction', { connectorId: 1, idTag }), { status: 'Accepted' }, `RemoteStart ${idTag} Accepted`);
  const start = await cs.waitForCall('StartTransaction', (p) => p['idTag'] === idTag, { from });
  t.match(start.params, { connectorId: 1, idTag });
  await waitRelay(box, true);
  return lastTransactionId;
}

let tx1 = 0;
t.test('RemoteStartTransaction (Accepted) before the car, then plug-in: StartTransaction with that idTag, Charging', async (t) => {
  const from = cs.calls.length;
  t.same(await cs.call('RemoteStartTransaction', { connectorId: 1, idTag: 'REM1' }), { status: 'Accepted' });
  await sleep(500);
  t.same(since(cs, from, 'StartTransaction'), [], 'no transaction before the car is there');
  await plugIn(box);
  const start = await cs.waitForCall('StartTransaction', () => true, { from });
  t.match(start.params, { connectorId: 1, idTag: 'REM1' });
  tx1 = lastTransactionId;
  await waitStatus(cs, 'Charging', from);
  await waitRelay(box, true);
  t.same(since(cs, from, 'Authorize'), [], 'no Authorize: AuthorizeRemoteTxRequests is false by default');
  const order = sequence(cs, from);
  t.ok(
    order.indexOf('Preparing') < order.indexOf('StartTransaction(REM1)') &&
      order.indexOf('StartTransaction(REM1)') < order.indexOf('Charging'),
    `sequence: ${order.join(' → ')}`,
  );
});

t.test('RemoteStartTransaction while a transaction runs: Rejected, nothing else sent', async (t) => {
  const from = cs.calls.length;
  t.same(await cs.call('RemoteStartTransaction', { connectorId: 1, idTag: 'REM2' }), { status: 'Rejected' });
  t.same(await cs.call('RemoteStartTransaction', { idTag: 'REM2' }), { status: 'Rejected' }, 'without connectorId too');
  await sleep(500);
  t.same(since(cs, from, 'StartTransaction'), []);
  t.same(since(cs, from, 'StopTransaction'), []);
  t.ok((await box.sim())['relayClosed'], 'still charging');
});

t.test('RemoteStopTransaction with a wrong transactionId: Rejected, the transaction goes on', async (t) => {
  const from = cs.calls.length;
  t.same(await cs.call('RemoteStopTransaction', { transactionId: tx1 + 1000 }), { status: 'Rejected' });
  await sleep(500);
  t.same(since(cs, from, 'StopTransaction'), []);
  t.ok((await box.sim())['relayClosed'], 'still charging');
});

t.test('RemoteStopTransaction with the right transactionId: Accepted, StopTransaction reason Remote, Finishing', async (t) => {
  const from = cs.calls.length;
  t.same(await cs.call('RemoteStopTransaction', { transactionId: tx1 }), { status: 'Accepted' });
  const stop = await cs.waitForCall('StopTransaction', () => true, { from });
  t.match(stop.params, { transactionId: tx1, idTag: 'REM1', reason: 'Remote' });
  await waitRelay(box, false);
  await waitStatus(cs, 'Finishing', from);
  const order = sequence(cs, from);
  t.ok(order.indexOf('StopTransaction(Remote)') < order.indexOf('Finishing'), `sequence: ${order.join(' → ')}`);
  // OCPP 1.6 §4.10: the normal end of the transaction unlocks the cable; nothing is energised until the car is plugged in anew.
  await pollUntil(box.sim, (s) => s['locked'] === false);
  await unplug(cs, box);
  await plugIn(box);
});

for (const [type, idTag] of [
  ['Soft', 'REM3'],
  ['Hard', 'REM4'],
] as const) {
  t.test(`Reset ${type} during a transaction: Accepted, StopTransaction reason ${type}Reset, then a new BootNotification`, async (t) => {
    const tx = await remoteStartCharging(t, idTag);
    const from = cs.calls.length;
    t.same(await cs.call('Reset', { type }), { status: 'Accepted' });
    const stop = await cs.waitForCall('StopTransaction', () => true, { from });
    t.match(stop.params, { transactionId: tx, idTag, reason: `${type}Reset` });
    const boot = await cs.waitForCall('BootNotification', () => true, { from });
    t.ok(boot.atMs >= stop.atMs, 'the BootNotification follows the StopTransaction');
    await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1, { from: cs.calls.indexOf(boot) });
    await waitRelay(box, false);
    await sleep(1500);
    const stops = since(cs, from, 'StopTransaction');
    t.equal(stops.length, 1, `one StopTransaction for transaction ${tx}; saw ${JSON.stringify(stops.map((s) => s.params))}`);
    t.same(since(cs, from, 'StartTransaction'), [], 'no new transaction after the reset (no fixed idTag)');
    t.comment(`sequence: ${sequence(cs, from).join(' → ')}`);
  });
}

t.test('UnlockConnector during a transaction: StopTransaction reason UnlockCommand, answer Unlocked, plug released', async (t) => {
  const started = cs.calls.length;
  const tx = await remoteStartCharging(t, 'REM5');
  await waitStatus(cs, 'Charging', started);
  const from = cs.calls.length;
  const answer = await cs.call('UnlockConnector', { connectorId: 1 });
  t.same(answer, { status: 'Unlocked' });
  const stop = await cs.waitForCall('StopTransaction', () => true, { from });
  t.match(stop.params, { transactionId: tx, idTag: 'REM5', reason: 'UnlockCommand' });
  const sim = await pollUntil(box.sim, (s) => s['locked'] === false);
  t.equal(sim['relayClosed'], false, 'the contactor is open');
  t.equal(since(cs, from, 'StopTransaction').length, 1);
  t.notOk(statuses(cs, from).includes('Charging'), `statuses: ${statuses(cs, from).join(', ')}`);
  await unplug(cs, box);
});

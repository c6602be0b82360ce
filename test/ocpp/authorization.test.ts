import t from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { startBox, type RunningBox } from '../helpers/firmware-process.js';
import {
  plugIn,
  presentCard,
  relayEverClosed,
  sequence,
  since,
  sleep,
  statuses,
  unplug,
  waitRelay,
  waitStatus,
} from '../helpers/ocpp-scenario.js';

/**
 * CONTRACT §5 on the built firmware: authorisation by RFID card (no fixed idTag). A card with the
 * car plugged in starts a transaction after Authorize, the same card stops it (Local), a card the
 * backend rejects starts nothing, a StartTransaction answered Invalid de-authorises the
 * transaction, and a card presented before the plug-in waits ConnectionTimeOut for the car.
 */

let cs: CentralSystem;
let box: RunningBox;
t.before(async () => {
  cs = await startCentralSystem();
  box = await startBox(t.testdir({}), { ocpp: { url: cs.url, chargeBoxId: 'box-auth', password: '', fixedIdTag: '' } });
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1 && p['status'] === 'Available');
  let next = 300;
  cs.handlers.StartTransaction = () => ({ transactionId: (lastTransactionId = ++next), idTagInfo: { status: 'Accepted' } });
});
t.teardown(async () => {
  await box?.fw.kill();
  await cs?.close();
});

t.test('without a fixed idTag a plug-in alone starts nothing', async (t) => {
  const from = cs.calls.length;
  await plugIn(box);
  await waitStatus(cs, 'Preparing', from);
  t.notOk(await relayEverClosed(box, 1000), 'no power without a card');
  t.same(since(cs, from, 'Authorize'), [], 'no Authorize');
  t.same(since(cs, from, 'StartTransaction'), [], 'no StartTransaction');
});

let cardTx = 0;
let lastTransactionId = 0;
t.test('car plugged, then card CARD1: Authorize(CARD1) → StartTransaction(CARD1) → Charging', async (t) => {
  const from = cs.calls.length;
  await presentCard(box, 'CARD1');
  const authorize = await cs.waitForCall('Authorize', () => true, { from });
  t.same(authorize.params, { idTag: 'CARD1' });
  const start = await cs.waitForCall('StartTransaction', () => true, { from });
  t.match(start.params, { connectorId: 1, idTag: 'CARD1' });
  t.notOk('reservationId' in start.params, 'no reservation involved');
  await waitStatus(cs, 'Charging', from);
  await waitRelay(box, true);
  const order = sequence(cs, from);
  t.ok(
    order.indexOf('Authorize(CARD1)') < order.indexOf('StartTransaction(CARD1)') &&
      order.indexOf('StartTransaction(CARD1)') < order.indexOf('Charging'),
    `sequence: ${order.join(' → ')}`,
  );
  cardTx = lastTransactionId;
});

t.test('the same card again stops the transaction: StopTransaction reason Local, Finishing, contactor open', async (t) => {
  const from = cs.calls.length;
  await presentCard(box, 'CARD1');
  const stop = await cs.waitForCall('StopTransaction', () => true, { from });
  t.match(stop.params, { transactionId: cardTx, idTag: 'CARD1', reason: 'Local' });
  t.type(stop.params['meterStop'], 'number');
  await waitRelay(box, false);
  await waitStatus(cs, 'Finishing', from);
  t.same(since(cs, from, 'StartTransaction'), [], 'the card did not start another transaction');
  t.same(since(cs, from, 'Authorize'), [], 'the card that started the transaction stops it without Authorize');
  await unplug(cs, box);
});

t.test('a card the backend rejects (Authorize Invalid): no StartTransaction, the contactor stays open', async (t) => {
  cs.handlers.Authorize = (p) => ({ idTagInfo: { status: p['idTag'] === 'BAD1' ? 'Invalid' : 'Accepted' } });
  t.teardown(() => void (cs.handlers.Authorize = () => ({ idTagInfo: { status: 'Accepted' } })));
  const from = cs.calls.length;
  await plugIn(box);
  await waitStatus(cs, 'Preparing', from);
  await presentCard(box, 'BAD1');
  const authorize = await cs.waitForCall('Authorize', () => true, { from });
  t.same(authorize.params, { idTag: 'BAD1' });
  t.notOk(await relayEverClosed(box, 1500), 'relayClosed stays false');
  t.same(since(cs, from, 'StartTransaction'), [], 'no StartTransaction');
  t.notOk(
    statuses(cs, from).some((s) => s === 'Charging' || s === 'SuspendedEV' || s === 'SuspendedEVSE'),
    `statuses: ${statuses(cs, from).join(', ')}`,
  );
  t.equal((await box.sim())['offeredCurrentA'], 0, 'nothing offered to the car');
  await unplug(cs, box);
});

t.test(
  'StartTransaction answered with idTagInfo Invalid: StopTransaction reason DeAuthorized (StopTransactionOnInvalidId true)',
  async (t) => {
    const got = await cs.call('GetConfiguration', { key: ['StopTransactionOnInvalidId'] });
    t.same(got.configurationKey, [{ key: 'StopTransactionOnInvalidId', readonly: false, value: 'true' }], 'the default is true');
    let given = 0;
    const previous = cs.handlers.StartTransaction!;
    cs.handlers.StartTransaction = () => ({ transactionId: (given = 777), idTagInfo: { status: 'Invalid' } });
    t.teardown(() => void (cs.handlers.StartTransaction = previous));
    const from = cs.calls.length;
    await plugIn(box);
    await waitStatus(cs, 'Preparing', from);
    await presentCard(box, 'DEAD1');
    await cs.waitForCall('Authorize', (p) => p['idTag'] === 'DEAD1', { from });
    await cs.waitForCall('StartTransaction', (p) => p['idTag'] === 'DEAD1', { from });
    const stop = await cs.waitForCall('StopTransaction', () => true, { from });
    t.match(stop.params, { transactionId: given, idTag: 'DEAD1', reason: 'DeAuthorized' });
    await waitRelay(box, false);
    t.notOk(await relayEverClosed(box, 1000), 'the contactor stays open after the de-authorisation');
    t.equal(since(cs, from, 'StopTransaction').length, 1, 'one StopTransaction');
    t.comment(`sequence: ${sequence(cs, from).join(' → ')}`);
    t.equal(since(cs, from, 'StartTransaction').length, 1, 'no new StartTransaction');
    await unplug(cs, box);
  },
);

t.test('a card presented before the plug-in, then the car within ConnectionTimeOut: the transaction starts', async (t) => {
  const from = cs.calls.length;
  await presentCard(box, 'CARD2');
  await cs.waitForCall('Authorize', (p) => p['idTag'] === 'CARD2', { from });
  await sleep(700);
  t.same(since(cs, from, 'StartTransaction'), [], 'no transaction without the car');
  t.notOk((await box.sim())['relayClosed'], 'no power without the car');
  await plugIn(box);
  const start = await cs.waitForCall('StartTransaction', () => true, { from });
  t.match(start.params, { connectorId: 1, idTag: 'CARD2' });
  await waitStatus(cs, 'Charging', from);
  await waitRelay(box, true);
  t.equal(since(cs, from, 'Authorize').length, 1, 'one Authorize, before the plug-in');
  const order = sequence(cs, from);
  t.ok(order.indexOf('Authorize(CARD2)') < order.indexOf('StartTransaction(CARD2)'), `sequence: ${order.join(' → ')}`);
  t.comment(`statuses of connector 1 from the card on: ${statuses(cs, from).join(' → ')}`);
  const beforeStop = cs.calls.length;
  await presentCard(box, 'CARD2');
  t.match((await cs.waitForCall('StopTransaction', () => true, { from: beforeStop })).params, { idTag: 'CARD2', reason: 'Local' });
  await unplug(cs, box);
});

t.test('a card presented before the plug-in, the car coming after ConnectionTimeOut: nothing starts', async (t) => {
  t.same(await cs.call('ChangeConfiguration', { key: 'ConnectionTimeOut', value: '1' }), { status: 'Accepted' });
  t.teardown(async () => void (await cs.call('ChangeConfiguration', { key: 'ConnectionTimeOut', value: '60' })));
  const from = cs.calls.length;
  await presentCard(box, 'CARD3');
  await cs.waitForCall('Authorize', (p) => p['idTag'] === 'CARD3', { from });
  await sleep(1800);
  await plugIn(box);
  await waitStatus(cs, 'Preparing', from);
  t.notOk(await relayEverClosed(box, 1500), 'no power');
  t.same(since(cs, from, 'StartTransaction'), [], 'no StartTransaction after the timeout');
  await unplug(cs, box);
});

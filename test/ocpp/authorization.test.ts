import t from 'tap';
import { ocppRigFor } from '../helpers/ocpp-rig.js';
import { sequence, since, statuses } from '../helpers/ocpp-scenario.js';
import { carSteps, everDuring, numberedStarts } from '../helpers/rig-extras.js';

/**
 * CONTRACT §5: authorisation by RFID card (no fixed idTag), in process on the simulated board and
 * clock against the strict central system. A card with the car plugged in starts a transaction
 * after Authorize, the same card stops it (Local), a card the backend rejects starts nothing, a
 * StartTransaction answered Invalid de-authorises the transaction, and a card presented before
 * the plug-in waits ConnectionTimeOut for the car. The cases run in order on one box.
 */

t.test('authorisation by card, one box', async (t) => {
  const starts = numberedStarts(300);
  const rig = await ocppRigFor(t, { ocpp: { chargeBoxId: 'box-auth', fixedIdTag: '' }, prepare: (cs) => starts.prepare(cs) });
  const { relayIs, unplug } = carSteps(rig);
  let cardTx = 0;

  await t.test('without a fixed idTag a plug-in alone starts nothing', async (t) => {
    const from = rig.cs.calls.length;
    rig.car('C');
    await rig.waitStatus('Preparing', from);
    t.notOk(await everDuring(rig, 1000, () => rig.plant.contactorCommanded), 'no power without a card');
    t.same(since(rig.cs, from, 'Authorize'), [], 'no Authorize');
    t.same(since(rig.cs, from, 'StartTransaction'), [], 'no StartTransaction');
  });

  await t.test('car plugged, then card CARD1: Authorize(CARD1) → StartTransaction(CARD1) → Charging', async (t) => {
    const from = rig.cs.calls.length;
    rig.card('CARD1');
    const authorize = await rig.waitCall('Authorize', () => true, from);
    t.same(authorize.params, { idTag: 'CARD1' });
    const start = await rig.waitCall('StartTransaction', () => true, from);
    t.match(start.params, { connectorId: 1, idTag: 'CARD1' });
    t.notOk('reservationId' in start.params, 'no reservation involved');
    await rig.waitStatus('Charging', from);
    await relayIs(true);
    const order = sequence(rig.cs, from);
    t.ok(
      order.indexOf('Authorize(CARD1)') < order.indexOf('StartTransaction(CARD1)') &&
        order.indexOf('StartTransaction(CARD1)') < order.indexOf('Charging'),
      `sequence: ${order.join(' → ')}`,
    );
    cardTx = starts.last;
  });

  await t.test('the same card again stops the transaction: StopTransaction reason Local, Finishing, contactor open', async (t) => {
    const from = rig.cs.calls.length;
    rig.card('CARD1');
    const stop = await rig.waitCall('StopTransaction', () => true, from);
    t.match(stop.params, { transactionId: cardTx, idTag: 'CARD1', reason: 'Local' });
    t.type(stop.params['meterStop'], 'number');
    await relayIs(false);
    await rig.waitStatus('Finishing', from);
    t.same(since(rig.cs, from, 'StartTransaction'), [], 'the card did not start another transaction');
    t.same(since(rig.cs, from, 'Authorize'), [], 'the card that started the transaction stops it without Authorize');
    await unplug();
  });

  await t.test('a card the backend rejects (Authorize Invalid): no StartTransaction, the contactor stays open', async (t) => {
    rig.cs.handlers.Authorize = (p) => ({ idTagInfo: { status: p['idTag'] === 'BAD1' ? 'Invalid' : 'Accepted' } });
    t.teardown(() => void (rig.cs.handlers.Authorize = () => ({ idTagInfo: { status: 'Accepted' } })));
    const from = rig.cs.calls.length;
    rig.car('C');
    await rig.waitStatus('Preparing', from);
    rig.card('BAD1');
    const authorize = await rig.waitCall('Authorize', () => true, from);
    t.same(authorize.params, { idTag: 'BAD1' });
    t.notOk(await everDuring(rig, 1500, () => rig.plant.contactorCommanded), 'relayClosed stays false');
    t.same(since(rig.cs, from, 'StartTransaction'), [], 'no StartTransaction');
    t.notOk(
      statuses(rig.cs, from).some((s) => s === 'Charging' || s === 'SuspendedEV' || s === 'SuspendedEVSE'),
      `statuses: ${statuses(rig.cs, from).join(', ')}`,
    );
    t.not(rig.plant.pilot.mode, 'pwm', 'nothing offered to the car');
    await unplug();
  });

  await t.test(
    'StartTransaction answered with idTagInfo Invalid: StopTransaction reason DeAuthorized (StopTransactionOnInvalidId true)',
    async (t) => {
      const got = await rig.call('GetConfiguration', { key: ['StopTransactionOnInvalidId'] });
      t.same(got.configurationKey, [{ key: 'StopTransactionOnInvalidId', readonly: false, value: 'true' }], 'the default is true');
      let given = 0;
      const previous = rig.cs.handlers.StartTransaction!;
      rig.cs.handlers.StartTransaction = () => ({ transactionId: (given = 777), idTagInfo: { status: 'Invalid' } });
      t.teardown(() => void (rig.cs.handlers.StartTransaction = previous));
      const from = rig.cs.calls.length;
      rig.car('C');
      await rig.waitStatus('Preparing', from);
      rig.card('DEAD1');
      await rig.waitCall('Authorize', (p) => p['idTag'] === 'DEAD1', from);
      await rig.waitCall('StartTransaction', (p) => p['idTag'] === 'DEAD1', from);
      const stop = await rig.waitCall('StopTransaction', () => true, from);
      t.match(stop.params, { transactionId: given, idTag: 'DEAD1', reason: 'DeAuthorized' });
      await relayIs(false);
      t.notOk(await everDuring(rig, 1000, () => rig.plant.contactorCommanded), 'the contactor stays open after the de-authorisation');
      t.equal(since(rig.cs, from, 'StopTransaction').length, 1, 'one StopTransaction');
      t.comment(`sequence: ${sequence(rig.cs, from).join(' → ')}`);
      t.equal(since(rig.cs, from, 'StartTransaction').length, 1, 'no new StartTransaction');
      await unplug();
    },
  );

  await t.test('a card presented before the plug-in, then the car within ConnectionTimeOut: the transaction starts', async (t) => {
    const from = rig.cs.calls.length;
    rig.card('CARD2');
    await rig.waitCall('Authorize', (p) => p['idTag'] === 'CARD2', from);
    await rig.advance(700);
    t.same(since(rig.cs, from, 'StartTransaction'), [], 'no transaction without the car');
    t.notOk(rig.plant.contactorCommanded, 'no power without the car');
    rig.car('C');
    const start = await rig.waitCall('StartTransaction', () => true, from);
    t.match(start.params, { connectorId: 1, idTag: 'CARD2' });
    await rig.waitStatus('Charging', from);
    await relayIs(true);
    t.equal(since(rig.cs, from, 'Authorize').length, 1, 'one Authorize, before the plug-in');
    const order = sequence(rig.cs, from);
    t.ok(order.indexOf('Authorize(CARD2)') < order.indexOf('StartTransaction(CARD2)'), `sequence: ${order.join(' → ')}`);
    t.comment(`statuses of connector 1 from the card on: ${statuses(rig.cs, from).join(' → ')}`);
    const beforeStop = rig.cs.calls.length;
    rig.card('CARD2');
    t.match((await rig.waitCall('StopTransaction', () => true, beforeStop)).params, { idTag: 'CARD2', reason: 'Local' });
    await unplug();
  });

  await t.test('a card presented before the plug-in, the car coming after ConnectionTimeOut: nothing starts', async (t) => {
    t.same(await rig.call('ChangeConfiguration', { key: 'ConnectionTimeOut', value: '1' }), { status: 'Accepted' });
    t.teardown(async () => void (await rig.call('ChangeConfiguration', { key: 'ConnectionTimeOut', value: '60' })));
    const from = rig.cs.calls.length;
    rig.card('CARD3');
    await rig.waitCall('Authorize', (p) => p['idTag'] === 'CARD3', from);
    await rig.advance(1800);
    rig.car('C');
    await rig.waitStatus('Preparing', from);
    t.notOk(await everDuring(rig, 1500, () => rig.plant.contactorCommanded), 'no power');
    t.same(since(rig.cs, from, 'StartTransaction'), [], 'no StartTransaction after the timeout');
    await unplug();
  });
});

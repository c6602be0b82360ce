import t from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { startBox, type RunningBox } from '../helpers/firmware-process.js';
import {
  inMs,
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
 * CONTRACT §5 on the built firmware (fixed idTag FIXED01): ChangeAvailability (Unavailable,
 * Scheduled during a transaction), reservations, and the configuration / local list / trigger /
 * data transfer / cache operations of the central system.
 */

let cs: CentralSystem;
let box: RunningBox;
let lastTransactionId = 0;
t.before(async () => {
  cs = await startCentralSystem();
  let next = 700;
  cs.handlers.StartTransaction = () => ({ transactionId: (lastTransactionId = ++next), idTagInfo: { status: 'Accepted' } });
  box = await startBox(t.testdir({}), { ocpp: { url: cs.url, chargeBoxId: 'box-avail', password: '', fixedIdTag: 'FIXED01' } });
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1 && p['status'] === 'Available');
});
t.teardown(async () => {
  await box?.fw.kill();
  await cs?.close();
});

t.test(
  'ChangeAvailability Inoperative outside a transaction: Accepted, Unavailable; a plug-in starts nothing and does not charge',
  async (t) => {
    const from = cs.calls.length;
    t.same(await cs.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), { status: 'Accepted' });
    await waitStatus(cs, 'Unavailable', from);
    const plugged = cs.calls.length;
    await plugIn(box);
    t.notOk(await relayEverClosed(box, 2000), 'relayClosed stays false');
    t.same(since(cs, plugged, 'Authorize'), [], 'no Authorize');
    t.same(since(cs, plugged, 'StartTransaction'), [], 'no StartTransaction');
    t.notOk(
      statuses(cs, plugged).some((s) => s !== 'Unavailable'),
      `statuses after the plug-in: ${statuses(cs, plugged).join(', ') || 'none'}`,
    );
    t.equal((await box.sim())['offeredCurrentA'], 0, 'nothing offered');
    await box.simPost('/sim/ev', { state: 'A' });
    await sleep(300);
  },
);

t.test('ChangeAvailability Operative again: Accepted, Available', async (t) => {
  const from = cs.calls.length;
  t.same(await cs.call('ChangeAvailability', { connectorId: 1, type: 'Operative' }), { status: 'Accepted' });
  await waitStatus(cs, 'Available', from);
});

t.test(
  'ChangeAvailability Inoperative during a transaction: Scheduled, the transaction goes on, Unavailable after the unplug',
  async (t) => {
    let from = cs.calls.length;
    await plugIn(box);
    const start = await cs.waitForCall('StartTransaction', () => true, { from });
    t.match(start.params, { idTag: 'FIXED01', connectorId: 1 });
    await waitStatus(cs, 'Charging', from);
    await waitRelay(box, true);
    from = cs.calls.length;
    t.same(await cs.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), { status: 'Scheduled' });
    await sleep(1500);
    t.ok((await box.sim())['relayClosed'], 'still charging');
    t.same(since(cs, from, 'StopTransaction'), [], 'the transaction goes on');
    t.notOk(statuses(cs, from).includes('Unavailable'), `no Unavailable while it runs: ${statuses(cs, from).join(', ')}`);
    const unplugged = cs.calls.length;
    await box.simPost('/sim/ev', { state: 'A' });
    const stop = await cs.waitForCall('StopTransaction', () => true, { from: unplugged });
    t.match(stop.params, { reason: 'EVDisconnected', idTag: 'FIXED01', transactionId: lastTransactionId });
    await waitStatus(cs, 'Unavailable', unplugged);
    await sleep(300);
    t.notOk(statuses(cs, unplugged).includes('Available'), `never Available in between: ${statuses(cs, unplugged).join(' → ')}`);
    const order = sequence(cs, unplugged);
    t.ok(order.indexOf('StopTransaction(EVDisconnected)') < order.indexOf('Unavailable'), `sequence: ${order.join(' → ')}`);
    const back = cs.calls.length;
    t.same(await cs.call('ChangeAvailability', { connectorId: 1, type: 'Operative' }), { status: 'Accepted' });
    await waitStatus(cs, 'Available', back);
  },
);

t.test('ReserveNow R1: Accepted, Reserved; FIXED01 does not start at plug-in; the card R1 starts with the reservationId', async (t) => {
  let from = cs.calls.length;
  t.same(await cs.call('ReserveNow', { connectorId: 1, expiryDate: inMs(3_600_000), idTag: 'R1', reservationId: 7 }), {
    status: 'Accepted',
  });
  await waitStatus(cs, 'Reserved', from);
  from = cs.calls.length;
  await plugIn(box);
  t.notOk(await relayEverClosed(box, 1500), 'no power for the fixed idTag while reserved');
  t.same(since(cs, from, 'StartTransaction'), [], 'no StartTransaction for FIXED01');
  t.same(since(cs, from, 'Authorize'), [], 'FIXED01 not even authorised');
  t.comment(`statuses after the plug-in: ${statuses(cs, from).join(', ') || 'none'}`);
  from = cs.calls.length;
  await presentCard(box, 'R1');
  const start = await cs.waitForCall('StartTransaction', () => true, { from });
  t.match(start.params, { connectorId: 1, idTag: 'R1', reservationId: 7 });
  await waitStatus(cs, 'Charging', from);
  await waitRelay(box, true);
  const stopFrom = cs.calls.length;
  await presentCard(box, 'R1');
  t.match((await cs.waitForCall('StopTransaction', () => true, { from: stopFrom })).params, { idTag: 'R1', reason: 'Local' });
  await unplug(cs, box);
  t.notOk(statuses(cs, stopFrom).includes('Reserved'), 'the reservation was used up');
  t.same(await cs.call('CancelReservation', { reservationId: 7 }), { status: 'Rejected' }, 'reservation 7 is gone');
});

t.test('while reserved for R2 another card (OTHER) does not start a transaction', async (t) => {
  let from = cs.calls.length;
  t.same(await cs.call('ReserveNow', { connectorId: 1, expiryDate: inMs(3_600_000), idTag: 'R2', reservationId: 8 }), {
    status: 'Accepted',
  });
  await waitStatus(cs, 'Reserved', from);
  await plugIn(box);
  await sleep(300);
  from = cs.calls.length;
  await presentCard(box, 'OTHER');
  const relay = await relayEverClosed(box, 2000);
  const starts = since(cs, from, 'StartTransaction');
  t.same(
    starts.map((c) => c.params['idTag']),
    [],
    'no StartTransaction for a card the connector is not reserved for',
  );
  t.notOk(relay, 'no power for OTHER');
  if (starts.length > 0) {
    const stopFrom = cs.calls.length;
    await presentCard(box, 'OTHER');
    await cs.waitForCall('StopTransaction', () => true, { from: stopFrom });
  }
  await unplug(cs, box, 'Reserved').catch(() => unplug(cs, box, 'Available'));
  t.comment(`sequence: ${sequence(cs, from).join(' → ')}`);
  const cancel = await cs.call('CancelReservation', { reservationId: 8 });
  t.same(cancel, { status: 'Accepted' }, 'reservation 8 still in force and cancelled');
});

t.test('CancelReservation of an unknown id: Rejected; of the reservation in force: Accepted, Available', async (t) => {
  t.same(await cs.call('CancelReservation', { reservationId: 4711 }), { status: 'Rejected' });
  let from = cs.calls.length;
  t.same(await cs.call('ReserveNow', { connectorId: 1, expiryDate: inMs(3_600_000), idTag: 'R3', reservationId: 9 }), {
    status: 'Accepted',
  });
  await waitStatus(cs, 'Reserved', from);
  from = cs.calls.length;
  t.same(await cs.call('CancelReservation', { reservationId: 9 }), { status: 'Accepted' });
  await waitStatus(cs, 'Available', from);
});

t.test('GetConfiguration: all keys; a named unknown key', async (t) => {
  const all = await cs.call('GetConfiguration', {});
  const keys = (all.configurationKey as Array<{ key: string; readonly: boolean; value?: string }>).map((k) => k.key);
  for (const key of [
    'HeartbeatInterval',
    'ConnectionTimeOut',
    'MeterValueSampleInterval',
    'NumberOfConnectors',
    'AuthorizationCacheEnabled',
    'LocalAuthorizeOffline',
    'LocalPreAuthorize',
    'AllowOfflineTxForUnknownId',
    'StopTransactionOnInvalidId',
    'TransactionMessageAttempts',
    'TransactionMessageRetryInterval',
    'SupportedFeatureProfiles',
    'LocalAuthListEnabled',
  ]) {
    t.ok(keys.includes(key), `${key} listed`);
  }
  t.notOk('unknownKey' in all && all.unknownKey.length > 0, 'no unknown keys when none are named');
  const byKey = Object.fromEntries(
    (all.configurationKey as Array<{ key: string; readonly: boolean; value?: string }>).map((k) => [k.key, k]),
  );
  t.same(byKey['NumberOfConnectors'], { key: 'NumberOfConnectors', readonly: true, value: '1' });
  t.match(
    byKey,
    {
      AuthorizationCacheEnabled: { value: 'true' },
      LocalAuthorizeOffline: { value: 'true' },
      LocalPreAuthorize: { value: 'false' },
      AllowOfflineTxForUnknownId: { value: 'false' },
      StopTransactionOnInvalidId: { value: 'true' },
    },
    'CONTRACT §5 defaults of the authorisation keys',
  );
  const named = await cs.call('GetConfiguration', { key: ['HeartbeatInterval', 'NoSuchKey'] });
  t.same(
    named.configurationKey.map((k: { key: string }) => k.key),
    ['HeartbeatInterval'],
  );
  t.same(named.unknownKey, ['NoSuchKey']);
  const unknownOnly = await cs.call('GetConfiguration', { key: ['AlsoNoSuchKey'] });
  t.same(unknownOnly.configurationKey ?? [], []);
  t.same(unknownOnly.unknownKey, ['AlsoNoSuchKey']);
});

t.test('ChangeConfiguration: read-only key Rejected, unknown key NotSupported, bad value Rejected', async (t) => {
  t.same(await cs.call('ChangeConfiguration', { key: 'NumberOfConnectors', value: '2' }), { status: 'Rejected' });
  t.same(await cs.call('ChangeConfiguration', { key: 'NoSuchKey', value: '1' }), { status: 'NotSupported' });
  const before = (await cs.call('GetConfiguration', { key: ['HeartbeatInterval'] })).configurationKey[0].value;
  t.same(await cs.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: 'abc' }), { status: 'Rejected' });
  t.same(await cs.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: '-5' }), { status: 'Rejected' });
  t.same(await cs.call('ChangeConfiguration', { key: 'LocalPreAuthorize', value: 'maybe' }), { status: 'Rejected' });
  const after = await cs.call('GetConfiguration', { key: ['HeartbeatInterval', 'NumberOfConnectors'] });
  t.same(
    after.configurationKey.map((k: { value: string }) => k.value),
    [before, '1'],
    'values unchanged',
  );
});

t.test('SendLocalList Full, then GetLocalListVersion', async (t) => {
  t.same(await cs.call('GetLocalListVersion', {}), { listVersion: 0 }, 'no list yet');
  const list = [
    { idTag: 'LIST1', idTagInfo: { status: 'Accepted' } },
    { idTag: 'LIST2', idTagInfo: { status: 'Blocked' } },
  ];
  t.same(await cs.call('SendLocalList', { listVersion: 5, updateType: 'Full', localAuthorizationList: list }), { status: 'Accepted' });
  t.same(await cs.call('GetLocalListVersion', {}), { listVersion: 5 });
});

t.test('TriggerMessage StatusNotification / Heartbeat / MeterValues: Accepted, and the message follows', async (t) => {
  let from = cs.calls.length;
  t.same(await cs.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 }), { status: 'Accepted' });
  const status = await cs.waitForCall('StatusNotification', () => true, { from, timeoutMs: 5000 });
  t.match(status.params, { connectorId: 1, status: 'Available', errorCode: 'NoError' });
  from = cs.calls.length;
  t.same(await cs.call('TriggerMessage', { requestedMessage: 'Heartbeat' }), { status: 'Accepted' });
  await cs.waitForCall('Heartbeat', () => true, { from, timeoutMs: 5000 });
  from = cs.calls.length;
  t.same(await cs.call('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 }), { status: 'Accepted' });
  const mv = await cs.waitForCall('MeterValues', () => true, { from, timeoutMs: 5000 });
  t.equal(mv.params['connectorId'], 1);
  t.notOk('transactionId' in mv.params, 'no transaction runs');
  t.ok(
    mv.params['meterValue'][0].sampledValue.every((v: { context?: string }) => v.context === 'Trigger'),
    'context Trigger',
  );
});

t.test('DataTransfer: UnknownVendorId; ClearCache: Accepted', async (t) => {
  t.same(await cs.call('DataTransfer', { vendorId: 'com.example', messageId: 'hello', data: 'x' }), { status: 'UnknownVendorId' });
  t.same(await cs.call('ClearCache', {}), { status: 'Accepted' });
});

import t from 'tap';
import { ocppRigFor } from '../helpers/ocpp-rig.js';
import { sequence, since, statuses } from '../helpers/ocpp-scenario.js';
import { everDuring } from '../helpers/rig-extras.js';

/**
 * CONTRACT §5 (fixed idTag FIXED01): ChangeAvailability (Unavailable, Scheduled during a
 * transaction), reservations, and the configuration / local list / trigger / data transfer / cache
 * operations of the central system; in process on the simulated board and clock against the
 * strict central system, the cases in order on one box.
 */

t.test('availability, reservations and the central system operations, one box', async (t) => {
  let lastTransactionId = 0;
  let next = 700;
  const rig = await ocppRigFor(t, {
    ocpp: { chargeBoxId: 'box-avail', fixedIdTag: 'FIXED01' },
    prepare: (cs) =>
      (cs.handlers.StartTransaction = () => ({ transactionId: (lastTransactionId = ++next), idTagInfo: { status: 'Accepted' } })),
  });
  const relayIs = (closed: boolean): Promise<void> => rig.pace(() => rig.plant.contactorCommanded === closed, 10_000);
  const unplug = async (status = 'Available'): Promise<void> => {
    const from = rig.cs.calls.length;
    rig.car('A');
    await rig.waitStatus(status, from, 10_000);
  };
  /** An ISO time `ms` from now on the simulated clock (which runs ahead of the host's). */
  const inSimMs = (ms: number): string => new Date(rig.clock.now() + ms).toISOString();

  await t.test(
    'ChangeAvailability Inoperative outside a transaction: Accepted, Unavailable; a plug-in starts nothing and does not charge',
    async (t) => {
      const from = rig.cs.calls.length;
      t.same(await rig.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), { status: 'Accepted' });
      await rig.waitStatus('Unavailable', from);
      const plugged = rig.cs.calls.length;
      rig.car('C');
      t.notOk(await everDuring(rig, 2000, () => rig.plant.contactorCommanded), 'relayClosed stays false');
      t.same(since(rig.cs, plugged, 'Authorize'), [], 'no Authorize');
      t.same(since(rig.cs, plugged, 'StartTransaction'), [], 'no StartTransaction');
      t.notOk(
        statuses(rig.cs, plugged).some((s) => s !== 'Unavailable'),
        `statuses after the plug-in: ${statuses(rig.cs, plugged).join(', ') || 'none'}`,
      );
      t.not(rig.plant.pilot.mode, 'pwm', 'nothing offered');
      rig.car('A');
      await rig.advance(300);
    },
  );

  await t.test('ChangeAvailability Operative again: Accepted, Available', async (t) => {
    const from = rig.cs.calls.length;
    t.same(await rig.call('ChangeAvailability', { connectorId: 1, type: 'Operative' }), { status: 'Accepted' });
    await rig.waitStatus('Available', from);
  });

  await t.test(
    'ChangeAvailability Inoperative during a transaction: Scheduled, the transaction goes on, Unavailable after the unplug',
    async (t) => {
      let from = rig.cs.calls.length;
      rig.car('C');
      const start = await rig.waitCall('StartTransaction', () => true, from);
      t.match(start.params, { idTag: 'FIXED01', connectorId: 1 });
      await rig.waitStatus('Charging', from);
      await relayIs(true);
      from = rig.cs.calls.length;
      t.same(await rig.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), { status: 'Scheduled' });
      await rig.advance(1500);
      t.ok(rig.plant.contactorCommanded, 'still charging');
      t.same(since(rig.cs, from, 'StopTransaction'), [], 'the transaction goes on');
      t.notOk(statuses(rig.cs, from).includes('Unavailable'), `no Unavailable while it runs: ${statuses(rig.cs, from).join(', ')}`);
      const unplugged = rig.cs.calls.length;
      rig.car('A');
      const stop = await rig.waitCall('StopTransaction', () => true, unplugged);
      t.match(stop.params, { reason: 'EVDisconnected', idTag: 'FIXED01', transactionId: lastTransactionId });
      await rig.waitStatus('Unavailable', unplugged);
      await rig.advance(300);
      t.notOk(statuses(rig.cs, unplugged).includes('Available'), `never Available in between: ${statuses(rig.cs, unplugged).join(' → ')}`);
      const order = sequence(rig.cs, unplugged);
      t.ok(order.indexOf('StopTransaction(EVDisconnected)') < order.indexOf('Unavailable'), `sequence: ${order.join(' → ')}`);
      const back = rig.cs.calls.length;
      t.same(await rig.call('ChangeAvailability', { connectorId: 1, type: 'Operative' }), { status: 'Accepted' });
      await rig.waitStatus('Available', back);
    },
  );

  await t.test(
    'ReserveNow R1: Accepted, Reserved; FIXED01 does not start at plug-in; the card R1 starts with the reservationId',
    async (t) => {
      let from = rig.cs.calls.length;
      t.same(await rig.call('ReserveNow', { connectorId: 1, expiryDate: inSimMs(3_600_000), idTag: 'R1', reservationId: 7 }), {
        status: 'Accepted',
      });
      await rig.waitStatus('Reserved', from);
      from = rig.cs.calls.length;
      rig.car('C');
      t.notOk(await everDuring(rig, 1500, () => rig.plant.contactorCommanded), 'no power for the fixed idTag while reserved');
      t.same(since(rig.cs, from, 'StartTransaction'), [], 'no StartTransaction for FIXED01');
      t.same(since(rig.cs, from, 'Authorize'), [], 'FIXED01 not even authorised');
      t.comment(`statuses after the plug-in: ${statuses(rig.cs, from).join(', ') || 'none'}`);
      from = rig.cs.calls.length;
      rig.card('R1');
      const start = await rig.waitCall('StartTransaction', () => true, from);
      t.match(start.params, { connectorId: 1, idTag: 'R1', reservationId: 7 });
      await rig.waitStatus('Charging', from);
      await relayIs(true);
      const stopFrom = rig.cs.calls.length;
      rig.card('R1');
      t.match((await rig.waitCall('StopTransaction', () => true, stopFrom)).params, { idTag: 'R1', reason: 'Local' });
      await unplug();
      t.notOk(statuses(rig.cs, stopFrom).includes('Reserved'), 'the reservation was used up');
      t.same(await rig.call('CancelReservation', { reservationId: 7 }), { status: 'Rejected' }, 'reservation 7 is gone');
    },
  );

  await t.test('while reserved for R2 another card (OTHER) does not start a transaction', async (t) => {
    let from = rig.cs.calls.length;
    t.same(await rig.call('ReserveNow', { connectorId: 1, expiryDate: inSimMs(3_600_000), idTag: 'R2', reservationId: 8 }), {
      status: 'Accepted',
    });
    await rig.waitStatus('Reserved', from);
    rig.car('C');
    await rig.advance(300);
    from = rig.cs.calls.length;
    rig.card('OTHER');
    const relay = await everDuring(rig, 2000, () => rig.plant.contactorCommanded);
    const starts = since(rig.cs, from, 'StartTransaction');
    t.same(
      starts.map((c) => c.params['idTag']),
      [],
      'no StartTransaction for a card the connector is not reserved for',
    );
    t.notOk(relay, 'no power for OTHER');
    if (starts.length > 0) {
      const stopFrom = rig.cs.calls.length;
      rig.card('OTHER');
      await rig.waitCall('StopTransaction', () => true, stopFrom);
    }
    await unplug('Reserved').catch(() => unplug('Available'));
    t.comment(`sequence: ${sequence(rig.cs, from).join(' → ')}`);
    const cancel = await rig.call('CancelReservation', { reservationId: 8 });
    t.same(cancel, { status: 'Accepted' }, 'reservation 8 still in force and cancelled');
  });

  await t.test('CancelReservation of an unknown id: Rejected; of the reservation in force: Accepted, Available', async (t) => {
    t.same(await rig.call('CancelReservation', { reservationId: 4711 }), { status: 'Rejected' });
    let from = rig.cs.calls.length;
    t.same(await rig.call('ReserveNow', { connectorId: 1, expiryDate: inSimMs(3_600_000), idTag: 'R3', reservationId: 9 }), {
      status: 'Accepted',
    });
    await rig.waitStatus('Reserved', from);
    from = rig.cs.calls.length;
    t.same(await rig.call('CancelReservation', { reservationId: 9 }), { status: 'Accepted' });
    await rig.waitStatus('Available', from);
  });

  await t.test('GetConfiguration: all keys; a named unknown key', async (t) => {
    const all = await rig.call('GetConfiguration', {});
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
    const named = await rig.call('GetConfiguration', { key: ['HeartbeatInterval', 'NoSuchKey'] });
    t.same(
      named.configurationKey.map((k: { key: string }) => k.key),
      ['HeartbeatInterval'],
    );
    t.same(named.unknownKey, ['NoSuchKey']);
    const unknownOnly = await rig.call('GetConfiguration', { key: ['AlsoNoSuchKey'] });
    t.same(unknownOnly.configurationKey ?? [], []);
    t.same(unknownOnly.unknownKey, ['AlsoNoSuchKey']);
  });

  await t.test('ChangeConfiguration: read-only key Rejected, unknown key NotSupported, bad value Rejected', async (t) => {
    t.same(await rig.call('ChangeConfiguration', { key: 'NumberOfConnectors', value: '2' }), { status: 'Rejected' });
    t.same(await rig.call('ChangeConfiguration', { key: 'NoSuchKey', value: '1' }), { status: 'NotSupported' });
    const before = (await rig.call('GetConfiguration', { key: ['HeartbeatInterval'] })).configurationKey[0].value;
    t.same(await rig.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: 'abc' }), { status: 'Rejected' });
    t.same(await rig.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: '-5' }), { status: 'Rejected' });
    t.same(await rig.call('ChangeConfiguration', { key: 'LocalPreAuthorize', value: 'maybe' }), { status: 'Rejected' });
    const after = await rig.call('GetConfiguration', { key: ['HeartbeatInterval', 'NumberOfConnectors'] });
    t.same(
      after.configurationKey.map((k: { value: string }) => k.value),
      [before, '1'],
      'values unchanged',
    );
  });

  await t.test('SendLocalList Full, then GetLocalListVersion', async (t) => {
    t.same(await rig.call('GetLocalListVersion', {}), { listVersion: 0 }, 'no list yet');
    const list = [
      { idTag: 'LIST1', idTagInfo: { status: 'Accepted' } },
      { idTag: 'LIST2', idTagInfo: { status: 'Blocked' } },
    ];
    t.same(await rig.call('SendLocalList', { listVersion: 5, updateType: 'Full', localAuthorizationList: list }), { status: 'Accepted' });
    t.same(await rig.call('GetLocalListVersion', {}), { listVersion: 5 });
  });

  await t.test('TriggerMessage StatusNotification / Heartbeat / MeterValues: Accepted, and the message follows', async (t) => {
    let from = rig.cs.calls.length;
    t.same(await rig.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 }), { status: 'Accepted' });
    const status = await rig.waitCall('StatusNotification', () => true, from, 5000);
    t.match(status.params, { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    from = rig.cs.calls.length;
    t.same(await rig.call('TriggerMessage', { requestedMessage: 'Heartbeat' }), { status: 'Accepted' });
    await rig.waitCall('Heartbeat', () => true, from, 5000);
    from = rig.cs.calls.length;
    t.same(await rig.call('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 }), { status: 'Accepted' });
    const mv = await rig.waitCall('MeterValues', () => true, from, 5000);
    t.equal(mv.params['connectorId'], 1);
    t.notOk('transactionId' in mv.params, 'no transaction runs');
    t.ok(
      mv.params['meterValue'][0].sampledValue.every((v: { context?: string }) => v.context === 'Trigger'),
      'context Trigger',
    );
  });

  await t.test('DataTransfer: UnknownVendorId; ClearCache: Accepted', async (t) => {
    t.same(await rig.call('DataTransfer', { vendorId: 'com.example', messageId: 'hello', data: 'x' }), { status: 'UnknownVendorId' });
    t.same(await rig.call('ClearCache', {}), { status: 'Accepted' });
  });
});

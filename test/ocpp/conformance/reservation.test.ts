import t from 'tap';
import { ocppRigFor } from '../../helpers/ocpp-rig.js';

/**
 * OCA OCPP 1.6 charge-point test cases, Reservation profile (OCPP 1.6 §5.13): ReserveNow with a
 * parentIdTag, expiry, and a reservation ended by Unavailable or Faulted, on the simulated board
 * and clock against the strict independent central system.
 */

const inS = (rig: { clock: { now(): number } }, s: number): string => new Date(rig.clock.now() + s * 1000).toISOString();

t.test(
  "a card of the reservation's group (its parentIdTag) is authorised with an Authorize and starts with the reservationId; a card of no group does not",
  async (t) => {
    const rig = await ocppRigFor(t, {
      prepare: (cs) =>
        (cs.handlers.Authorize = (p) => ({
          idTagInfo: { status: 'Accepted', ...(p['idTag'] === 'COLLEAGUE' && { parentIdTag: 'FLEET' }) },
        })),
    });
    let from = rig.cs.calls.length;
    t.same(
      await rig.call('ReserveNow', { connectorId: 1, expiryDate: inS(rig, 3600), idTag: 'OWNER', parentIdTag: 'FLEET', reservationId: 41 }),
      { status: 'Accepted' },
    );
    await rig.waitStatus('Reserved', from);
    rig.car('C');
    await rig.advance(1000);
    from = rig.cs.calls.length;
    rig.card('STRANGER');
    await rig.advance(3000);
    t.same(rig.since(from, 'StartTransaction'), [], 'no StartTransaction for a card of no group');
    from = rig.cs.calls.length;
    rig.card('COLLEAGUE');
    await rig.waitCall('Authorize', (p) => p['idTag'] === 'COLLEAGUE', from);
    const start = await rig.waitCall('StartTransaction', () => true, from);
    t.match(start.params, { idTag: 'COLLEAGUE', reservationId: 41, connectorId: 1 });
    t.equal(rig.cp.transactions.reservation, null, 'the reservation is used up');
  },
);

t.test('a reservation ends at its expiryDate: StatusNotification Available at that time', async (t) => {
  const rig = await ocppRigFor(t);
  const from = rig.cs.calls.length;
  const reservedAtMs = rig.clock.now();
  t.same(await rig.call('ReserveNow', { connectorId: 1, expiryDate: inS(rig, 60), idTag: 'OWNER', reservationId: 42 }), {
    status: 'Accepted',
  });
  await rig.waitStatus('Reserved', from);
  const available = await rig.waitStatus('Available', from, 120_000);
  const afterMs = rig.clock.now() - reservedAtMs;
  t.ok(afterMs >= 58_000 && afterMs <= 63_000, `Available ${afterMs} ms after the reservation (expiry 60 s)`);
  t.ok(available);
  t.same(await rig.call('CancelReservation', { reservationId: 42 }), { status: 'Rejected' }, 'nothing left to cancel');
});

t.test(
  'a reservation ends when the connector goes Unavailable: after Inoperative → Operative the connector is Available, not Reserved',
  async (t) => {
    const rig = await ocppRigFor(t);
    let from = rig.cs.calls.length;
    t.same(await rig.call('ReserveNow', { connectorId: 1, expiryDate: inS(rig, 3600), idTag: 'OWNER', reservationId: 43 }), {
      status: 'Accepted',
    });
    await rig.waitStatus('Reserved', from);
    from = rig.cs.calls.length;
    t.same(await rig.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), { status: 'Accepted' });
    await rig.waitStatus('Unavailable', from);
    from = rig.cs.calls.length;
    t.same(await rig.call('ChangeAvailability', { connectorId: 1, type: 'Operative' }), { status: 'Accepted' });
    await rig.waitStatus('Available', from);
    await rig.advance(1000);
    t.notOk(
      rig.since(from, 'StatusNotification').some((c) => c.params['status'] === 'Reserved'),
      'never Reserved again',
    );
    t.same(await rig.call('CancelReservation', { reservationId: 43 }), { status: 'Rejected' }, 'the reservation is gone');
  },
);

t.test('a reservation ends when the connector goes Faulted: after the fault clears the connector is Available, not Reserved', async (t) => {
  const rig = await ocppRigFor(t);
  let from = rig.cs.calls.length;
  t.same(await rig.call('ReserveNow', { connectorId: 1, expiryDate: inS(rig, 3600), idTag: 'OWNER', reservationId: 44 }), {
    status: 'Accepted',
  });
  await rig.waitStatus('Reserved', from);
  from = rig.cs.calls.length;
  rig.plant.setFault('rcd');
  await rig.waitStatus('Faulted', from);
  from = rig.cs.calls.length;
  rig.plant.setFault('none');
  await rig.waitStatus('Available', from);
  t.notOk(
    rig.since(from, 'StatusNotification').some((c) => c.params['status'] === 'Reserved'),
    'never Reserved again',
  );
  t.same(await rig.call('CancelReservation', { reservationId: 44 }), { status: 'Rejected' }, 'the reservation is gone');
});

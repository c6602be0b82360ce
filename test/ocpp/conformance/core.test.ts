import t from 'tap';
import { ocppRig } from '../../helpers/ocpp-rig.js';

/**
 * OCA OCPP 1.6 charge-point test cases, Core profile: authorisation, transactions, availability,
 * BootNotification and configuration, on the simulated board and clock against the strict
 * independent central system.
 */

t.test('a card presented on an Inoperative connector starts no transaction and sends no Authorize', async (t) => {
  const rig = await ocppRig(t.testdir({}));
  t.teardown(() => rig.close());
  let from = rig.cs.calls.length;
  t.same(await rig.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), { status: 'Accepted' });
  await rig.waitStatus('Unavailable', from);
  rig.car('C');
  await rig.advance(2000);
  from = rig.cs.calls.length;
  rig.card('CARD1');
  await rig.advance(5000);
  t.same(rig.since(from, 'StartTransaction'), [], 'no StartTransaction');
  t.same(rig.since(from, 'Authorize'), [], 'no Authorize');
  t.equal(rig.cp.transactions.transaction, null);
  t.notOk(rig.plant.contactorCommanded, 'never energised');
});

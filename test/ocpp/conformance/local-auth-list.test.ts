import t from 'tap';
import { ocppRigFor } from '../../helpers/ocpp-rig.js';

/**
 * OCA OCPP 1.6 charge-point test cases, Local Authorization List Management (OCPP 1.6 §5.10,
 * §5.15): SendLocalList and GetLocalListVersion against the strict independent central system.
 */

t.test('an empty local list has version 0: SendLocalList Full without entries, then GetLocalListVersion answers 0', async (t) => {
  const rig = await ocppRigFor(t);
  t.same(
    await rig.call('SendLocalList', {
      listVersion: 5,
      updateType: 'Full',
      localAuthorizationList: [{ idTag: 'CARD1', idTagInfo: { status: 'Accepted' } }],
    }),
    { status: 'Accepted' },
  );
  t.same(await rig.call('GetLocalListVersion', {}), { listVersion: 5 });
  t.same(await rig.call('SendLocalList', { listVersion: 6, updateType: 'Full' }), { status: 'Accepted' });
  t.same(await rig.call('GetLocalListVersion', {}), { listVersion: 0 }, 'no entries: version 0');
  t.same(await rig.call('SendLocalList', { listVersion: 7, updateType: 'Full', localAuthorizationList: [] }), { status: 'Accepted' });
  t.same(await rig.call('GetLocalListVersion', {}), { listVersion: 0 }, 'an empty array too');
});

t.test('a differential update that removes the last entry leaves version 0 too', async (t) => {
  const rig = await ocppRigFor(t);
  t.same(
    await rig.call('SendLocalList', {
      listVersion: 2,
      updateType: 'Full',
      localAuthorizationList: [{ idTag: 'CARD1', idTagInfo: { status: 'Accepted' } }],
    }),
    { status: 'Accepted' },
  );
  t.same(await rig.call('SendLocalList', { listVersion: 3, updateType: 'Differential', localAuthorizationList: [{ idTag: 'CARD1' }] }), {
    status: 'Accepted',
  });
  t.same(await rig.call('GetLocalListVersion', {}), { listVersion: 0 });
});

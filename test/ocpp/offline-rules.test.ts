import t, { type Test } from 'tap';
import { ocppRigFor, type OcppRig } from '../helpers/ocpp-rig.js';
import { everDuring, rigLogs, type RigLogs } from '../helpers/rig-extras.js';

/**
 * The authorisation keys of CONTRACT §5: the cache, AllowOfflineTxForUnknownId, LocalPreAuthorize;
 * in process on the simulated board and clock.
 */

async function rig(t: Test): Promise<OcppRig & { logs: RigLogs }> {
  const logs = rigLogs();
  const rig = await ocppRigFor(t, { log: logs.logger, ocpp: { chargeBoxId: 'box-auth', fixedIdTag: '' } });
  logs.useClock(rig.clock);
  return Object.assign(rig, { logs });
}

async function goOffline(rig: OcppRig & { logs: RigLogs }): Promise<void> {
  await rig.cs.close();
  await rig.pace(() => rig.logs.find((l) => l['msg'] === 'OCPP disconnected') !== undefined, 10_000);
}

const relayClosed = (rig: OcppRig, closed: boolean, limitMs = 10_000): Promise<void> =>
  rig.pace(() => rig.plant.contactorCommanded === closed, limitMs);

async function unplug(rig: OcppRig): Promise<void> {
  const from = rig.cs.calls.length;
  rig.car('A');
  await rig.waitStatus('Available', from);
}

t.test('a card the backend accepted once is in the cache: offline it still charges', async (t) => {
  const box = await rig(t);
  box.car('C');
  box.card('CACHED1');
  await box.waitCall('StartTransaction');
  box.card('CACHED1');
  await box.waitCall('StopTransaction');
  await relayClosed(box, false);
  // The stop unlocked the cable (OCPP 1.6 §4.10): the next charge needs the car plugged in anew.
  await unplug(box);
  box.car('C');
  await goOffline(box);
  box.card('CACHED1');
  await relayClosed(box, true, 5000);
  t.pass('charging offline on the cached authorisation');
});

t.test('with the cache disabled the same card is refused offline', async (t) => {
  const box = await rig(t);
  t.same(await box.call('ChangeConfiguration', { key: 'AuthorizationCacheEnabled', value: 'false' }), { status: 'Accepted' });
  box.car('C');
  box.card('CACHED2');
  await box.waitCall('StartTransaction');
  box.card('CACHED2');
  await box.waitCall('StopTransaction');
  await relayClosed(box, false);
  // The stop unlocked the cable (OCPP 1.6 §4.10): the next charge needs the car plugged in anew.
  await unplug(box);
  box.car('C');
  await goOffline(box);
  box.card('CACHED2');
  t.notOk(await everDuring(box, 2500, () => box.plant.contactorCommanded));
});

t.test('AllowOfflineTxForUnknownId: an unknown card charges offline only when it is true', async (t) => {
  const box = await rig(t);
  t.same(await box.call('ChangeConfiguration', { key: 'AllowOfflineTxForUnknownId', value: 'true' }), { status: 'Accepted' });
  box.car('C');
  await goOffline(box);
  box.card('NEVERSEEN');
  await relayClosed(box, true, 5000);
  t.pass('an unknown card charges offline');
});

t.test('AllowOfflineTxForUnknownId false (the default): an unknown card is refused offline', async (t) => {
  const box = await rig(t);
  box.car('C');
  await goOffline(box);
  box.card('NEVERSEEN');
  t.notOk(await everDuring(box, 2500, () => box.plant.contactorCommanded));
});

t.test('LocalPreAuthorize: a tag in the local list starts without an Authorize request', async (t) => {
  const box = await rig(t);
  t.same(await box.call('ChangeConfiguration', { key: 'LocalPreAuthorize', value: 'true' }), { status: 'Accepted' });
  t.same(
    await box.call('SendLocalList', {
      listVersion: 3,
      updateType: 'Full',
      localAuthorizationList: [{ idTag: 'LISTED', idTagInfo: { status: 'Accepted' } }],
    }),
    { status: 'Accepted' },
  );
  const from = box.cs.calls.length;
  box.car('C');
  box.card('LISTED');
  await box.waitCall('StartTransaction', (p) => p['idTag'] === 'LISTED', from);
  t.same(box.since(from, 'Authorize'), [], 'no Authorize');
  const next = box.cs.calls.length;
  box.card('LISTED');
  await box.waitCall('StopTransaction', () => true, next);
  box.card('UNLISTED');
  await box.waitCall('Authorize', (p) => p['idTag'] === 'UNLISTED', next);
  t.pass('a tag not in the list is authorised online');
});

import t, { type Test } from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { startBoxFor, type RunningBox } from '../helpers/firmware-process.js';
import { plugIn, presentCard, relayEverClosed, since, unplug, waitRelay, waitStatus } from '../helpers/ocpp-scenario.js';

/** The authorisation keys of CONTRACT §5: the cache, AllowOfflineTxForUnknownId, LocalPreAuthorize. */

async function rig(t: Test): Promise<{ cs: CentralSystem; box: RunningBox }> {
  const cs = await startCentralSystem();
  t.teardown(() => cs.close());
  const box = await startBoxFor(t, { ocpp: { url: cs.url, chargeBoxId: 'box-auth', fixedIdTag: '' } });
  await waitStatus(cs, 'Available', 0);
  return { cs, box };
}

async function goOffline(cs: CentralSystem, box: RunningBox): Promise<void> {
  await cs.close();
  await box.fw.waitForLog((l) => l['msg'] === 'OCPP disconnected');
}

t.test('a card the backend accepted once is in the cache: offline it still charges', async (t) => {
  const { cs, box } = await rig(t);
  await plugIn(box);
  await presentCard(box, 'CACHED1');
  await cs.waitForCall('StartTransaction');
  await presentCard(box, 'CACHED1');
  await cs.waitForCall('StopTransaction');
  await waitRelay(box, false);
  // The stop unlocked the cable (OCPP 1.6 §4.10): the next charge needs the car plugged in anew.
  await unplug(cs, box);
  await plugIn(box);
  await goOffline(cs, box);
  await presentCard(box, 'CACHED1');
  await waitRelay(box, true, 5000);
  t.pass('charging offline on the cached authorisation');
});

t.test('with the cache disabled the same card is refused offline', async (t) => {
  const { cs, box } = await rig(t);
  t.same(await cs.call('ChangeConfiguration', { key: 'AuthorizationCacheEnabled', value: 'false' }), { status: 'Accepted' });
  await plugIn(box);
  await presentCard(box, 'CACHED2');
  await cs.waitForCall('StartTransaction');
  await presentCard(box, 'CACHED2');
  await cs.waitForCall('StopTransaction');
  await waitRelay(box, false);
  // The stop unlocked the cable (OCPP 1.6 §4.10): the next charge needs the car plugged in anew.
  await unplug(cs, box);
  await plugIn(box);
  await goOffline(cs, box);
  await presentCard(box, 'CACHED2');
  t.notOk(await relayEverClosed(box, 2500));
});

t.test('AllowOfflineTxForUnknownId: an unknown card charges offline only when it is true', async (t) => {
  const { cs, box } = await rig(t);
  t.same(await cs.call('ChangeConfiguration', { key: 'AllowOfflineTxForUnknownId', value: 'true' }), { status: 'Accepted' });
  await plugIn(box);
  await goOffline(cs, box);
  await presentCard(box, 'NEVERSEEN');
  await waitRelay(box, true, 5000);
  t.pass('an unknown card charges offline');
});

t.test('AllowOfflineTxForUnknownId false (the default): an unknown card is refused offline', async (t) => {
  const { cs, box } = await rig(t);
  await plugIn(box);
  await goOffline(cs, box);
  await presentCard(box, 'NEVERSEEN');
  t.notOk(await relayEverClosed(box, 2500));
});

t.test('LocalPreAuthorize: a tag in the local list starts without an Authorize request', async (t) => {
  const { cs, box } = await rig(t);
  t.same(await cs.call('ChangeConfiguration', { key: 'LocalPreAuthorize', value: 'true' }), { status: 'Accepted' });
  t.same(
    await cs.call('SendLocalList', {
      listVersion: 3,
      updateType: 'Full',
      localAuthorizationList: [{ idTag: 'LISTED', idTagInfo: { status: 'Accepted' } }],
    }),
    { status: 'Accepted' },
  );
  const from = cs.calls.length;
  await plugIn(box);
  await presentCard(box, 'LISTED');
  await cs.waitForCall('StartTransaction', (p) => p['idTag'] === 'LISTED', { from });
  t.same(since(cs, from, 'Authorize'), [], 'no Authorize');
  const next = cs.calls.length;
  await presentCard(box, 'LISTED');
  await cs.waitForCall('StopTransaction', () => true, { from: next });
  await presentCard(box, 'UNLISTED');
  await cs.waitForCall('Authorize', (p) => p['idTag'] === 'UNLISTED', { from: next });
  t.pass('a tag not in the list is authorised online');
});

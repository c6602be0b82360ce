import t from 'tap';
import { startCentralSystem } from '../helpers/central-system.js';
import { pollUntil, startBox } from '../helpers/firmware-process.js';
import { plugIn, waitStatus } from '../helpers/ocpp-scenario.js';
import { chargingProfile } from '../helpers/smart-rig.js';

/**
 * CONTRACT §6 with OCPP, on the built firmware: an unreadable availability stays Inoperative until
 * the central system sets it, unreadable charging profiles never raise the offer (6 A until a
 * profile comes), each reported to the central system as InternalError with an info (README).
 */

t.test('availability and charging profiles unreadable: Inoperative, then at most 6 A until a profile is sent; each reported', async (t) => {
  const dir = t.testdir({ data: { 'ocpp-availability.json': '{"availability":"Oper', 'ocpp-charging-profiles.json': '[]' } });
  const cs = await startCentralSystem();
  t.teardown(() => cs.close());
  const box = await startBox(dir, { ocpp: { url: cs.url, chargeBoxId: 'box-damaged-state', password: '', fixedIdTag: 'FIXED' } });
  t.teardown(() => box.fw.kill());
  const unavailable = await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 0, { timeoutMs: 15_000 });
  t.match(
    unavailable.params,
    { status: 'Unavailable', errorCode: 'InternalError', info: 'availability unreadable: Inoperative' },
    'Inoperative, and said why',
  );
  t.ok(
    box.fw.logs.some((l) => l['level'] === 'error' && l['msg'] === 'availability unreadable: Inoperative until ChangeAvailability sets it'),
  );
  t.ok(
    box.fw.logs.some(
      (l) =>
        l['level'] === 'error' &&
        l['msg'] === 'charging profiles unreadable: the offer is capped until the central system sends profiles again',
    ),
    'a bare [] counts as damaged',
  );

  let from = cs.calls.length;
  t.same(await cs.call('ChangeAvailability', { connectorId: 0, type: 'Operative' }), { status: 'Accepted' });
  const available = await waitStatus(cs, 'Available', from);
  t.match(
    available.params,
    { errorCode: 'InternalError', info: 'charging profiles lost: 6 A until sent again' },
    'the next problem is reported',
  );
  from = cs.calls.length;
  await plugIn(box);
  await waitStatus(cs, 'Charging', from);
  t.equal((await box.sim())['offeredCurrentA'], 6, 'charging at the documented cap, not 32 A');

  const profile = chargingProfile(
    { chargingProfileId: 3, chargingProfilePurpose: 'ChargePointMaxProfile', stackLevel: 0 },
    { chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] },
  );
  t.same(await cs.call('SetChargingProfile', { connectorId: 0, csChargingProfiles: profile }), { status: 'Accepted' });
  await pollUntil(box.sim, (s) => s['offeredCurrentA'] === 10);
  t.pass('the central system sent a profile: its limit applies, the cap ends');
  t.equal(await box.fw.stop(), 0);
  const again = await startBox(dir, { ocpp: { url: cs.url, chargeBoxId: 'box-damaged-state', password: '', fixedIdTag: 'FIXED' } });
  t.teardown(() => again.fw.kill());
  from = cs.calls.length;
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1, { from, timeoutMs: 15_000 });
  t.notOk(
    again.fw.logs.some((l) => l['level'] === 'error'),
    'the next start finds good files',
  );
  t.equal(await again.fw.stop(), 0);
});

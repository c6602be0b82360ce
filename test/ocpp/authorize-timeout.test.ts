import t from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { startBox, type RunningBox } from '../helpers/firmware-process.js';
import { plugIn, presentCard, relayEverClosed, since, waitStatus } from '../helpers/ocpp-scenario.js';

/**
 * A backend that never answers Authorize (part of the backend-failure scenarios, in a file of its
 * own because the firmware's call timeout is 30 s): the firmware keeps answering the central
 * system, its own later calls wait behind the unanswered one, and after 30 s the Authorize times
 * out, the offline rules apply (an unknown card is refused) and the waiting calls go out.
 */

const CALL_TIMEOUT_MS = 30_000;

let cs: CentralSystem;
let box: RunningBox;
t.before(async () => {
  cs = await startCentralSystem();
  cs.handlers.Authorize = () => new Promise(() => {});
  box = await startBox(t.testdir({}), { ocpp: { url: cs.url, chargeBoxId: 'box-silent', password: '', fixedIdTag: '' } });
  await waitStatus(cs, 'Available', 0);
});
t.teardown(async () => {
  await box?.fw.kill();
  await cs?.close();
});

t.test('Authorize never answered: times out after 30 s, the card is refused, the calls behind it go out', async (t) => {
  await plugIn(box);
  await waitStatus(cs, 'Preparing', 0);
  const from = cs.calls.length;
  await presentCard(box, 'CARD7');
  const authorize = await cs.waitForCall('Authorize', (p) => p['idTag'] === 'CARD7', { from });

  const askedAt = Date.now();
  t.equal((await cs.call('GetConfiguration', { key: ['ConnectionTimeOut'] })).configurationKey[0].key, 'ConnectionTimeOut');
  t.ok(Date.now() - askedAt < 2000, 'GetConfiguration answered at once while Authorize is outstanding');
  const triggered = cs.calls.length;
  t.same(await cs.call('TriggerMessage', { requestedMessage: 'Heartbeat' }), { status: 'Accepted' });

  const failed = await box.fw.waitForLog((l) => l['msg'] === 'Authorize failed; offline rules apply', CALL_TIMEOUT_MS + 5000);
  const waitedMs = Date.parse(String(failed['time'])) - authorize.atMs;
  t.ok(waitedMs >= CALL_TIMEOUT_MS - 500 && waitedMs <= CALL_TIMEOUT_MS + 2000, `timed out after ${waitedMs} ms`);
  t.match(String(failed['reason']), /timed out/);
  const heartbeat = await cs.waitForCall('Heartbeat', () => true, { from: triggered, timeoutMs: 3000 });
  t.ok(
    heartbeat.atMs >= authorize.atMs + CALL_TIMEOUT_MS - 500,
    'the triggered Heartbeat waited behind the unanswered Authorize (one outstanding call at a time)',
  );
  t.notOk(await relayEverClosed(box, 1000), 'no power for the unknown card');
  t.same(since(cs, from, 'StartTransaction'), [], 'no StartTransaction (the offline rules refuse an unknown card)');
});

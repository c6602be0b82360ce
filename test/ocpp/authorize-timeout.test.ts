import t from 'tap';
import { ocppRigFor } from '../helpers/ocpp-rig.js';
import { everDuring, rigLogs } from '../helpers/rig-extras.js';

/**
 * A backend that never answers Authorize (part of the backend-failure scenarios, in a file of its
 * own because the firmware's call timeout is 30 s): the firmware keeps answering the central
 * system, its own later calls wait behind the unanswered one, and after 30 s the Authorize times
 * out, the offline rules apply (an unknown card is refused) and the waiting calls go out. In
 * process on the simulated clock: the 30 s pass in a moment and every interval is exact.
 */

const CALL_TIMEOUT_MS = 30_000;

t.test('Authorize never answered: times out after 30 s, the card is refused, the calls behind it go out', async (t) => {
  const logs = rigLogs();
  const rig = await ocppRigFor(t, {
    log: logs.logger,
    ocpp: { fixedIdTag: '' },
    prepare: (cs) => (cs.handlers.Authorize = () => new Promise(() => {})),
  });
  logs.useClock(rig.clock);
  rig.car('C');
  await rig.waitStatus('Preparing');
  const from = rig.cs.calls.length;
  rig.card('CARD7');
  await rig.waitCall('Authorize', (p) => p['idTag'] === 'CARD7', from);
  const authorizedAtMs = rig.clock.now();

  const askedAtMs = rig.clock.now();
  t.equal((await rig.call('GetConfiguration', { key: ['ConnectionTimeOut'] })).configurationKey[0].key, 'ConnectionTimeOut');
  t.ok(rig.clock.now() - askedAtMs < 2000, 'GetConfiguration answered at once while Authorize is outstanding');
  const triggered = rig.cs.calls.length;
  t.same(await rig.call('TriggerMessage', { requestedMessage: 'Heartbeat' }), { status: 'Accepted' });

  const isFailure = (l: Record<string, unknown>): boolean => l['msg'] === 'Authorize failed; offline rules apply';
  await rig.pace(() => logs.find(isFailure) !== undefined, CALL_TIMEOUT_MS + 5000);
  const failed = logs.find(isFailure) as Record<string, unknown>;
  const waitedMs = Date.parse(String(failed['time'])) - authorizedAtMs;
  t.ok(waitedMs >= CALL_TIMEOUT_MS - 500 && waitedMs <= CALL_TIMEOUT_MS + 2000, `timed out after ${waitedMs} ms`);
  t.match(String(failed['reason']), /timed out/);
  await rig.waitCall('Heartbeat', () => true, triggered, 3000);
  t.ok(
    rig.clock.now() >= authorizedAtMs + CALL_TIMEOUT_MS - 500,
    'the triggered Heartbeat waited behind the unanswered Authorize (one outstanding call at a time)',
  );
  t.notOk(await everDuring(rig, 1000, () => rig.plant.contactorCommanded), 'no power for the unknown card');
  t.same(rig.since(from, 'StartTransaction'), [], 'no StartTransaction (the offline rules refuse an unknown card)');
});

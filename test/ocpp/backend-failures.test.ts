import t, { type Test } from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { startBoxFor, type RunningBox } from '../helpers/firmware-process.js';
import {
  freePort,
  plugIn,
  presentCard,
  relayEverClosed,
  since,
  sleep,
  startCentralSystemOnPort,
  unplug,
  waitRelay,
  waitStatus,
} from '../helpers/ocpp-scenario.js';

/**
 * CONTRACT §5 and OCPP 1.6 on the built firmware when the backend misbehaves or is away:
 * BootNotification Pending, a CALLERROR to StartTransaction, an Authorize that is never answered,
 * the local list while offline (LocalAuthorizeOffline), the fixed idTag while the backend was
 * never reachable, and the reconnect attempts. Each scenario has its own central system and
 * firmware; the 30 s call timeout itself is held by authorize-timeout.test.ts (too slow for this file).
 */

interface Rig {
  cs: CentralSystem;
  box: RunningBox;
}

/** A central system (set up by `prepare` before the box connects) and a box with `ocpp` merged over the defaults. */
async function rig(t: Test, ocpp: Record<string, unknown>, prepare: (cs: CentralSystem) => void = () => {}): Promise<Rig> {
  const cs = await startCentralSystem();
  t.teardown(() => cs.close());
  prepare(cs);
  const box = await startBoxFor(t, { ocpp: { url: cs.url, chargeBoxId: 'box-fail', password: '', fixedIdTag: 'FIXED01', ...ocpp } });
  return { cs, box };
}

t.test('BootNotification Pending (interval 1) three times, then Accepted: nothing but BootNotification until Accepted', async (t) => {
  let boots = 0;
  const { cs, box } = await rig(t, {}, (cs) => {
    cs.handlers.BootNotification = () => ({
      status: ++boots <= 3 ? 'Pending' : 'Accepted',
      interval: 1,
      currentTime: new Date().toISOString(),
    });
  });
  await cs.waitForCall('BootNotification');
  // A car plugged in while Pending, and the central system asking for the configuration (allowed while Pending).
  await plugIn(box);
  const answer = await cs.call('GetConfiguration', { key: ['HeartbeatInterval'] });
  t.equal(answer.configurationKey.length, 1, 'the box answers the central system while Pending');
  await pollUntilCount(cs, 0, 'BootNotification', 4, 8000);
  const accepted = since(cs, 0, 'BootNotification')[3]!;
  const acceptedAt = cs.calls.indexOf(accepted);
  t.same(
    cs.calls.slice(0, acceptedAt + 1).map((c) => c.action),
    ['BootNotification', 'BootNotification', 'BootNotification', 'BootNotification'],
    'only BootNotification before Accepted',
  );
  const bootTimes = cs.calls.filter((c) => c.action === 'BootNotification').map((c) => c.atMs);
  for (let i = 1; i < bootTimes.length; i++)
    t.ok(bootTimes[i]! - bootTimes[i - 1]! >= 900, `retry ${i} after ${bootTimes[i]! - bootTimes[i - 1]!} ms (interval 1 s)`);
  // After Accepted: the status, then the car plugged in meanwhile counts (CONTRACT §5).
  await waitStatus(cs, 'Preparing', acceptedAt);
  const start = await cs.waitForCall('StartTransaction', () => true, { from: acceptedAt });
  t.match(start.params, { idTag: 'FIXED01', connectorId: 1 });
  t.ok(since(cs, acceptedAt, 'Authorize').length === 1, 'Authorize(FIXED01) after Accepted');
  await waitRelay(box, true);
  t.equal(cs.calls.filter((c) => c.action === 'BootNotification').length, 4, 'no BootNotification after Accepted');
});

t.test('StartTransaction answered with a CALLERROR: retried up to TransactionMessageAttempts, the firmware keeps working', async (t) => {
  const { cs, box } = await rig(t, {});
  await waitStatus(cs, 'Available', 0);
  t.same(await cs.call('ChangeConfiguration', { key: 'TransactionMessageRetryInterval', value: '1' }), { status: 'Accepted' });
  const attempts = Number((await cs.call('GetConfiguration', { key: ['TransactionMessageAttempts'] })).configurationKey[0].value);
  t.equal(attempts, 3, 'TransactionMessageAttempts default 3');
  cs.handlers.StartTransaction = () => {
    throw new Error('backend database down');
  };
  const from = cs.calls.length;
  await plugIn(box);
  await cs.waitForCall('StartTransaction', () => true, { from });
  await sleep(1000 * (1 + 2) + 1500); // retries after 1 s and 2 s (interval × preceding attempts), then some slack
  const tries = since(cs, from, 'StartTransaction');
  t.equal(tries.length, attempts, `StartTransaction sent ${attempts} times (saw ${tries.length})`);
  const gaps = tries.slice(1).map((c, i) => c.atMs - tries[i]!.atMs);
  t.ok(
    gaps.length === attempts - 1 && gaps.every((gap, i) => gap >= 1000 * (i + 1) - 100),
    `retries wait TransactionMessageRetryInterval × preceding attempts (1 s, 2 s); gaps seen: ${gaps.join(', ')} ms`,
  );
  t.same(
    tries.map((c) => c.params['idTag']),
    Array(tries.length).fill('FIXED01'),
    'the same message each time',
  );
  // Still working: answers the central system, sends what it is asked for, keeps charging the authorised car.
  t.equal((await cs.call('GetConfiguration', { key: ['HeartbeatInterval'] })).configurationKey.length, 1, 'answers GetConfiguration');
  const hb = cs.calls.length;
  t.same(await cs.call('TriggerMessage', { requestedMessage: 'Heartbeat' }), { status: 'Accepted' });
  await cs.waitForCall('Heartbeat', () => true, { from: hb, timeoutMs: 5000 });
  t.ok((await box.sim())['relayClosed'], 'the authorised car charges');
});

t.test('after a dropped StartTransaction the next transaction still reaches the backend', async (t) => {
  const { cs, box } = await rig(t, {});
  await waitStatus(cs, 'Available', 0);
  t.same(await cs.call('ChangeConfiguration', { key: 'TransactionMessageRetryInterval', value: '1' }), { status: 'Accepted' });
  let failing = true;
  let next = 800;
  cs.handlers.StartTransaction = () => {
    if (failing) throw new Error('backend database down');
    return { transactionId: ++next, idTagInfo: { status: 'Accepted' } };
  };
  const from = cs.calls.length;
  await plugIn(box);
  await cs.waitForCall('StartTransaction', () => true, { from });
  await pollUntilCount(cs, from, 'StartTransaction', 3, 8000);
  await sleep(500);
  failing = false;
  const unplugged = cs.calls.length;
  await unplug(cs, box);
  const replugged = cs.calls.length;
  await plugIn(box);
  let start;
  try {
    start = await cs.waitForCall('StartTransaction', () => true, { from: replugged, timeoutMs: 6000 });
  } catch (err) {
    t.fail(`no StartTransaction for the second plug-in: ${(err as Error).message}`);
  }
  if (start) t.match(start.params, { idTag: 'FIXED01' });
  t.comment(
    `after the unplug: ${since(cs, unplugged)
      .map((c) =>
        c.action === 'StatusNotification' ? `${c.action}(${String(c.params['connectorId'])}:${String(c.params['status'])})` : c.action,
      )
      .join(', ')}`,
  );
});

t.test('a backend that never answers Authorize: the firmware still answers the central system meanwhile', async (t) => {
  const { cs, box } = await rig(t, { fixedIdTag: '' }, (cs) => {
    cs.handlers.Authorize = () => new Promise(() => {});
  });
  await waitStatus(cs, 'Available', 0);
  await plugIn(box);
  await waitStatus(cs, 'Preparing', 0);
  const from = cs.calls.length;
  await presentCard(box, 'CARD7');
  await cs.waitForCall('Authorize', (p) => p['idTag'] === 'CARD7', { from });
  const askedAt = Date.now();
  const answer = await cs.call('GetConfiguration', { key: ['ConnectionTimeOut'] });
  t.ok(Date.now() - askedAt < 2000, 'answered at once');
  t.equal(answer.configurationKey[0].key, 'ConnectionTimeOut');
  t.same(await cs.call('DataTransfer', { vendorId: 'x' }), { status: 'UnknownVendorId' }, 'and other calls too');
  t.notOk(await relayEverClosed(box, 1000), 'no power while the card is not authorised');
  t.same(since(cs, from, 'StartTransaction'), []);
});

t.test('local list while the backend is unreachable: CARD9 in the list charges offline (LocalAuthorizeOffline true)', async (t) => {
  const { cs, box } = await rig(t, { fixedIdTag: '' });
  await waitStatus(cs, 'Available', 0);
  t.same(
    await cs.call('SendLocalList', {
      listVersion: 1,
      updateType: 'Full',
      localAuthorizationList: [{ idTag: 'CARD9', idTagInfo: { status: 'Accepted' } }],
    }),
    { status: 'Accepted' },
  );
  await plugIn(box);
  await waitStatus(cs, 'Preparing', 0);
  const before = cs.calls.length;
  await cs.close();
  await box.fw.waitForLog((l) => l['msg'] === 'OCPP disconnected');
  await presentCard(box, 'CARD9');
  await waitRelay(box, true, 5000);
  t.pass('the car charges offline');
  t.ok(
    box.fw.logs.some((l) => l['msg'] === 'transaction started' && l['idTag'] === 'CARD9'),
    'a transaction for CARD9',
  );
  t.equal(cs.calls.length, before, 'nothing reached the closed backend');
});

t.test('local list offline with LocalAuthorizeOffline=false (set before going offline): CARD9 is refused', async (t) => {
  const { cs, box } = await rig(t, { fixedIdTag: '' });
  await waitStatus(cs, 'Available', 0);
  t.same(await cs.call('ChangeConfiguration', { key: 'LocalAuthorizeOffline', value: 'false' }), { status: 'Accepted' });
  t.same(
    await cs.call('SendLocalList', {
      listVersion: 1,
      updateType: 'Full',
      localAuthorizationList: [{ idTag: 'CARD9', idTagInfo: { status: 'Accepted' } }],
    }),
    { status: 'Accepted' },
  );
  await plugIn(box);
  await waitStatus(cs, 'Preparing', 0);
  await cs.close();
  await box.fw.waitForLog((l) => l['msg'] === 'OCPP disconnected');
  await presentCard(box, 'CARD9');
  t.notOk(await relayEverClosed(box, 2500), 'relayClosed stays false');
  t.notOk(
    box.fw.logs.some((l) => l['msg'] === 'transaction started'),
    'no transaction started',
  );
});

t.test(
  'fixed idTag with the backend never reachable: plug-in charges; reconnect attempts with growing numbers and pauses; the backend back gets Boot then the offline StartTransaction',
  async (t) => {
    const port = await freePort();
    let backend: Awaited<ReturnType<typeof startCentralSystemOnPort>> | null = null;
    t.teardown(() => backend?.close());
    const box = await startBoxFor(t, {
      ocpp: { url: `ws://127.0.0.1:${port}/ocpp`, chargeBoxId: 'box-offline', password: '', fixedIdTag: 'FIXED01' },
    });
    await box.fw.waitForLog((l) => l['msg'] === 'OCPP connecting' && l['attempt'] === 1, 5000);
    const pluggedAtMs = Date.now();
    await plugIn(box);
    let charged = false;
    try {
      await waitRelay(box, true, 4000);
      charged = true;
    } catch {
      // reported below
    }
    t.ok(charged, 'the car charges with the fixed idTag although the backend is unreachable (CONTRACT §5)');
    t.ok(
      box.fw.logs.some((l) => l['msg'] === 'transaction started' && l['idTag'] === 'FIXED01'),
      'a local transaction for FIXED01',
    );
    await box.fw.waitForLog((l) => l['msg'] === 'OCPP connecting' && l['attempt'] === 2, 10_000);
    // The backend comes back on the same port: the next attempt gets through.
    backend = await startCentralSystemOnPort(port);
    const boot = await backend.waitForCall('BootNotification', () => true, 12_000);
    const start = await backend.waitForCall('StartTransaction', () => true, 5000);
    const connecting = box.fw.logs.filter((l) => l['msg'] === 'OCPP connecting');
    const attempts = connecting.map((l) => l['attempt'] as number);
    // The backend may come back while attempt 2 is still connecting: at least 3 attempts, numbered in order.
    t.ok(attempts.length >= 3 && attempts.every((a, i) => a === i), `attempt numbers 0, 1, 2, … : ${attempts.join(', ')}`);
    const times = connecting.map((l) => Date.parse(String(l['time'])));
    const pauses = times.slice(1).map((ms, i) => ms - times[i]!);
    t.ok(
      pauses.every((p, i) => p >= 500 * 2 ** i - 50 && p <= 1000 * 2 ** i + 1500),
      `backoff pauses (each between half and all of 1 s × 2^n): ${pauses.join(', ')} ms`,
    );
    t.ok(backend.calls.indexOf(boot) === 0, 'BootNotification first');
    t.match(start.params, { idTag: 'FIXED01', connectorId: 1 });
    t.ok(
      Date.parse(start.params['timestamp']) <= pluggedAtMs + 2000,
      `the StartTransaction keeps its offline time (${String(start.params['timestamp'])}, plugged at ${new Date(pluggedAtMs).toISOString()})`,
    );
    t.same(
      backend.calls.filter((c) => c.action === 'Authorize').map((c) => c.params),
      [],
      'no Authorize: the transaction already ran offline',
    );
  },
);

async function pollUntilCount(cs: CentralSystem, from: number, action: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (since(cs, from, action).length < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} ${action} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

import t, { type Test } from 'tap';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { ocppRigFor, type OcppRig, type OcppRigOptions } from '../helpers/ocpp-rig.js';
import { freePort, since } from '../helpers/ocpp-scenario.js';
import { carSteps, everDuring, rigLogs, type RigLogs } from '../helpers/rig-extras.js';

/**
 * CONTRACT §5 and OCPP 1.6 when the backend misbehaves or is away, in process on the simulated
 * board and clock against the strict central system: BootNotification Pending, a CALLERROR to
 * StartTransaction, an Authorize that is never answered, the local list while offline
 * (LocalAuthorizeOffline), the fixed idTag while the backend was never reachable, and the
 * reconnect attempts. Each scenario has its own central system and firmware; every gap is
 * measured on the simulated clock (the calls and the log lines are stamped with it). The 30 s call
 * timeout itself is held by authorize-timeout.test.ts.
 */

/** Simulated time at the start of every scenario. */
const START_MS = Date.now();

interface Scenario {
  rig: OcppRig;
  logs: RigLogs;
}

/** A rig with `ocpp` merged over this file's defaults, its log lines kept and stamped with its clock from the first one on. */
async function scenario(t: Test, ocpp: Record<string, unknown>, options: OcppRigOptions = {}): Promise<Scenario> {
  const logs = rigLogs('info');
  // Simulated time stands still until the rig paces it: the lines of the start carry START_MS.
  logs.useClock(new SimulatedClock({ startMs: START_MS }));
  const rig = await ocppRigFor(t, {
    startMs: START_MS,
    log: logs.logger,
    ...options,
    ocpp: { chargeBoxId: 'box-fail', fixedIdTag: 'FIXED01', ...ocpp },
  });
  logs.useClock(rig.clock);
  return { rig, logs };
}

/** Paces until a log line matches; `limitMs` of simulated time. */
async function waitLog(rig: OcppRig, logs: RigLogs, match: (line: Record<string, unknown>) => boolean, limitMs = 10_000) {
  await rig.pace(() => logs.find(match) !== undefined, limitMs);
  return logs.find(match) as Record<string, unknown>;
}

t.test('BootNotification Pending (interval 1) three times, then Accepted: nothing but BootNotification until Accepted', async (t) => {
  let boots = 0;
  const { rig } = await scenario(
    t,
    {},
    {
      noWait: true,
      prepare: (cs) => {
        cs.handlers.BootNotification = () => ({
          status: ++boots <= 3 ? 'Pending' : 'Accepted',
          interval: 1,
          currentTime: new Date().toISOString(),
        });
      },
    },
  );
  const { cs } = rig;
  await rig.waitCall('BootNotification');
  // A car plugged in while Pending, and the central system asking for the configuration (allowed while Pending).
  rig.car('C');
  const answer = await rig.call('GetConfiguration', { key: ['HeartbeatInterval'] });
  t.equal(answer.configurationKey.length, 1, 'the box answers the central system while Pending');
  await rig.pace(() => since(cs, 0, 'BootNotification').length >= 4, 8000);
  const accepted = since(cs, 0, 'BootNotification')[3]!;
  const acceptedAt = cs.calls.indexOf(accepted);
  t.same(
    cs.calls.slice(0, acceptedAt + 1).map((c) => c.action),
    ['BootNotification', 'BootNotification', 'BootNotification', 'BootNotification'],
    'only BootNotification before Accepted',
  );
  const bootTimes = cs.calls.filter((c) => c.action === 'BootNotification').map((c) => c.atMs);
  for (let i = 1; i < bootTimes.length; i++)
    t.ok(bootTimes[i]! - bootTimes[i - 1]! >= 1000, `retry ${i} after ${bootTimes[i]! - bootTimes[i - 1]!} ms (interval 1 s)`);
  // After Accepted: the status, then the car plugged in meanwhile counts (CONTRACT §5).
  await rig.waitStatus('Preparing', acceptedAt);
  const start = await rig.waitCall('StartTransaction', () => true, acceptedAt);
  t.match(start.params, { idTag: 'FIXED01', connectorId: 1 });
  t.ok(since(cs, acceptedAt, 'Authorize').length === 1, 'Authorize(FIXED01) after Accepted');
  await carSteps(rig).relayIs(true);
  t.equal(cs.calls.filter((c) => c.action === 'BootNotification').length, 4, 'no BootNotification after Accepted');
});

t.test('StartTransaction answered with a CALLERROR: retried up to TransactionMessageAttempts, the firmware keeps working', async (t) => {
  const { rig } = await scenario(t, {});
  const { cs } = rig;
  t.same(await rig.call('ChangeConfiguration', { key: 'TransactionMessageRetryInterval', value: '1' }), { status: 'Accepted' });
  const attempts = Number((await rig.call('GetConfiguration', { key: ['TransactionMessageAttempts'] })).configurationKey[0].value);
  t.equal(attempts, 3, 'TransactionMessageAttempts default 3');
  cs.handlers.StartTransaction = () => {
    throw new Error('backend database down');
  };
  const from = cs.calls.length;
  rig.car('C');
  // Retries after 1 s and 2 s (interval × preceding attempts) from each CALLERROR, then none: a fourth would come 3 s after the third.
  await rig.pace(() => since(cs, from, 'StartTransaction').length >= attempts, 30_000);
  await rig.advance(1000 * attempts + 1500);
  const tries = since(cs, from, 'StartTransaction');
  t.equal(tries.length, attempts, `StartTransaction sent ${attempts} times (saw ${tries.length})`);
  const gaps = tries.slice(1).map((c, i) => c.atMs - tries[i]!.atMs);
  t.ok(
    gaps.length === attempts - 1 && gaps.every((gap, i) => gap >= 1000 * (i + 1)),
    `retries wait TransactionMessageRetryInterval × preceding attempts (1 s, 2 s); gaps seen: ${gaps.join(', ')} ms`,
  );
  t.same(
    tries.map((c) => c.params['idTag']),
    Array(tries.length).fill('FIXED01'),
    'the same message each time',
  );
  // Still working: answers the central system, sends what it is asked for, keeps charging the authorised car.
  t.equal((await rig.call('GetConfiguration', { key: ['HeartbeatInterval'] })).configurationKey.length, 1, 'answers GetConfiguration');
  const hb = cs.calls.length;
  t.same(await rig.call('TriggerMessage', { requestedMessage: 'Heartbeat' }), { status: 'Accepted' });
  await rig.waitCall('Heartbeat', () => true, hb, 5000);
  t.ok(rig.plant.contactorCommanded, 'the authorised car charges');
});

t.test('after a dropped StartTransaction the next transaction still reaches the backend', async (t) => {
  const { rig } = await scenario(t, {});
  const { cs } = rig;
  t.same(await rig.call('ChangeConfiguration', { key: 'TransactionMessageRetryInterval', value: '1' }), { status: 'Accepted' });
  let failing = true;
  let next = 800;
  cs.handlers.StartTransaction = () => {
    if (failing) throw new Error('backend database down');
    return { transactionId: ++next, idTagInfo: { status: 'Accepted' } };
  };
  const from = cs.calls.length;
  rig.car('C');
  await rig.waitCall('StartTransaction', () => true, from);
  await rig.pace(() => since(cs, from, 'StartTransaction').length >= 3, 8000);
  await rig.advance(500);
  failing = false;
  const unplugged = cs.calls.length;
  await carSteps(rig).unplug();
  const replugged = cs.calls.length;
  rig.car('C');
  let start;
  try {
    start = await rig.waitCall('StartTransaction', () => true, replugged, 6000);
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
  const { rig } = await scenario(t, { fixedIdTag: '' }, { prepare: (cs) => (cs.handlers.Authorize = () => new Promise(() => {})) });
  const { cs } = rig;
  rig.car('C');
  await rig.waitStatus('Preparing', 0);
  const from = cs.calls.length;
  rig.card('CARD7');
  await rig.waitCall('Authorize', (p) => p['idTag'] === 'CARD7', from);
  const askedAtMs = rig.clock.now();
  const answer = await rig.call('GetConfiguration', { key: ['ConnectionTimeOut'] });
  t.ok(rig.clock.now() - askedAtMs < 2000, `answered at once (${rig.clock.now() - askedAtMs} ms of simulated time)`);
  t.equal(answer.configurationKey[0].key, 'ConnectionTimeOut');
  t.same(await rig.call('DataTransfer', { vendorId: 'x' }), { status: 'UnknownVendorId' }, 'and other calls too');
  t.notOk(await everDuring(rig, 1000, () => rig.plant.contactorCommanded), 'no power while the card is not authorised');
  t.same(since(cs, from, 'StartTransaction'), []);
});

/** Sends CARD9 in a full local list, plugs the car in and takes the backend away; resolves once the firmware saw it go. */
async function offlineWithCard9(rig: OcppRig, logs: RigLogs, t: Test): Promise<number> {
  t.same(
    await rig.call('SendLocalList', {
      listVersion: 1,
      updateType: 'Full',
      localAuthorizationList: [{ idTag: 'CARD9', idTagInfo: { status: 'Accepted' } }],
    }),
    { status: 'Accepted' },
  );
  rig.car('C');
  await rig.waitStatus('Preparing', 0);
  const before = rig.cs.calls.length;
  await rig.cs.close();
  await waitLog(rig, logs, (l) => l['msg'] === 'OCPP disconnected');
  return before;
}

t.test('local list while the backend is unreachable: CARD9 in the list charges offline (LocalAuthorizeOffline true)', async (t) => {
  const { rig, logs } = await scenario(t, { fixedIdTag: '' });
  const before = await offlineWithCard9(rig, logs, t);
  rig.card('CARD9');
  await rig.pace(() => rig.plant.contactorCommanded, 5000);
  t.pass('the car charges offline');
  t.ok(
    logs.find((l) => l['msg'] === 'transaction started' && l['idTag'] === 'CARD9'),
    'a transaction for CARD9',
  );
  t.equal(rig.cs.calls.length, before, 'nothing reached the closed backend');
});

t.test('local list offline with LocalAuthorizeOffline=false (set before going offline): CARD9 is refused', async (t) => {
  const { rig, logs } = await scenario(t, { fixedIdTag: '' });
  t.same(await rig.call('ChangeConfiguration', { key: 'LocalAuthorizeOffline', value: 'false' }), { status: 'Accepted' });
  await offlineWithCard9(rig, logs, t);
  rig.card('CARD9');
  t.notOk(await everDuring(rig, 2500, () => rig.plant.contactorCommanded), 'relayClosed stays false');
  t.notOk(
    logs.find((l) => l['msg'] === 'transaction started'),
    'no transaction started',
  );
});

t.test(
  'fixed idTag with the backend never reachable: plug-in charges; reconnect attempts with growing numbers and pauses; the backend back gets Boot then the offline StartTransaction',
  async (t) => {
    const port = await freePort();
    let backend: CentralSystem | null = null;
    t.teardown(() => backend?.close());
    const { rig, logs } = await scenario(t, { url: `ws://127.0.0.1:${port}/ocpp`, chargeBoxId: 'box-offline' }, { noWait: true });
    await waitLog(rig, logs, (l) => l['msg'] === 'OCPP connecting' && l['attempt'] === 1, 5000);
    const pluggedAtMs = rig.clock.now();
    rig.car('C');
    let charged = false;
    try {
      // Not a bound on the time: charging waits for the transaction on disk, real I/O while the
      // rig moves simulated time on (4 s of it were not enough under load).
      await rig.pace(() => rig.plant.contactorCommanded, 30_000);
      charged = true;
    } catch {
      // reported below
    }
    t.ok(charged, 'the car charges with the fixed idTag although the backend is unreachable (CONTRACT §5)');
    t.ok(
      logs.find((l) => l['msg'] === 'transaction started' && l['idTag'] === 'FIXED01'),
      'a local transaction for FIXED01',
    );
    await waitLog(rig, logs, (l) => l['msg'] === 'OCPP connecting' && l['attempt'] === 2, 10_000);
    // The backend comes back on the same port: the next attempt gets through.
    const back = await startCentralSystem({ port, now: () => rig.clock.now() });
    backend = back;
    const first = (action: string) => back.calls.find((c) => c.action === action);
    await rig.pace(() => first('BootNotification') !== undefined, 12_000);
    await rig.pace(() => first('StartTransaction') !== undefined, 5000);
    const boot = first('BootNotification')!;
    const start = first('StartTransaction')!;
    const connecting = logs.lines.filter((l) => l['msg'] === 'OCPP connecting');
    const attempts = connecting.map((l) => l['attempt'] as number);
    // The backend may come back while attempt 2 is still connecting: at least 3 attempts, numbered in order.
    t.ok(attempts.length >= 3 && attempts.every((a, i) => a === i), `attempt numbers 0, 1, 2, … : ${attempts.join(', ')}`);
    // Each failed attempt names its backoff; the next attempt starts that long after the failure.
    // (Measured from the failure, not from the previous attempt's start: the refused connect itself
    // is real I/O, during which the rig lets simulated time move on.)
    const timeOf = (l: Record<string, unknown>) => Date.parse(String(l['time']));
    const failed = logs.lines.filter((l) => l['msg'] === 'OCPP connection failed');
    const retries = failed.flatMap((f) => {
      const next = connecting.find((c) => c['attempt'] === (f['attempt'] as number) + 1);
      return next === undefined
        ? []
        : [{ attempt: f['attempt'] as number, retryInMs: f['retryInMs'] as number, gapMs: timeOf(next) - timeOf(f) }];
    });
    t.ok(retries.length >= 2, `at least two retries seen: ${retries.length}`);
    t.ok(
      retries.every(
        ({ attempt, retryInMs, gapMs }) =>
          retryInMs >= 500 * 2 ** attempt && retryInMs <= 1000 * 2 ** attempt && gapMs >= retryInMs && gapMs <= retryInMs + 50,
      ),
      `backoff (each between half and all of 1 s × 2^n, the next attempt that long after the failure): ${JSON.stringify(retries)}`,
    );
    t.ok(back.calls.indexOf(boot) === 0, 'BootNotification first');
    t.match(start.params, { idTag: 'FIXED01', connectorId: 1 });
    t.ok(
      Date.parse(start.params['timestamp']) <= pluggedAtMs + 2000,
      `the StartTransaction keeps its offline time (${String(start.params['timestamp'])}, plugged at ${new Date(pluggedAtMs).toISOString()})`,
    );
    t.same(
      back.calls.filter((c) => c.action === 'Authorize').map((c) => c.params),
      [],
      'no Authorize: the transaction already ran offline',
    );
  },
);

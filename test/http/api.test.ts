import { statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { storedJson } from '../helpers/damage.js';
import { boxRigFor, type BoxRig } from '../helpers/box-rig.js';
import { HTTP_ON_ANY_PORT, setupCode, WebClient } from '../helpers/web-client.js';

/**
 * The HTTP API over real HTTP: access (first-start setup, login, session cookie, CSRF, rate
 * limit), then every route with good and bad input and without a session. One box, in-process on
 * the simulated clock (box-rig.ts: the page from dist/web, so build first), no OCPP (the OCPP
 * routes have their own file); subtests run in order.
 */

const PASSWORD = 'correct horse battery';
const ROUTES: Array<[string, string]> = [
  ['GET', '/api/status'],
  ['GET', '/api/live'],
  ['GET', '/api/config'],
  ['PATCH', '/api/config'],
  ['POST', '/api/charging'],
  ['GET', '/api/events'],
  ['GET', '/api/grid/activations'],
  ['GET', '/api/transactions'],
  ['GET', '/api/samples'],
  ['PUT', '/api/certs/ca'],
  ['PUT', '/api/certs/client'],
  ['POST', '/api/password'],
];

let box: BoxRig;
let anon: WebClient;
let client: WebClient;
let dataDir: string;

t.before(async () => {
  box = await boxRigFor(t, { ...HTTP_ON_ANY_PORT, evse: { minOffS: 1 } });
  dataDir = join(t.testdirName, 'data');
  anon = new WebClient(`http://127.0.0.1:${box.httpPort}`);
});

t.test('first start: no password, every route refused, the setup code is in the log', async (t) => {
  t.same((await anon.call('GET', '/api/auth')).body, { passwordSet: false, loggedIn: false });
  for (const [method, path] of ROUTES) {
    const reply = await anon.call(method, path, method === 'GET' ? undefined : {});
    t.equal(reply.status, 401, `${method} ${path} without a session`);
  }
  t.equal((await anon.call('POST', '/api/login', { password: '' })).status, 401, 'no default password');
  t.match(await setupCode(box), /^\d{5}-\d{5}$/);
});

t.test('setup: wrong code, short password, wrong content type, then the password is set', async (t) => {
  const code = await setupCode(box);
  const wrong = await anon.call('POST', '/api/setup', { setupCode: '00000-00000', password: PASSWORD });
  t.equal(wrong.status, 403);
  t.match(wrong.body.error, /setupCode/);
  const short = await anon.call('POST', '/api/setup', { setupCode: code, password: 'short' });
  t.equal(short.status, 400);
  t.match(short.body.error, /^password: must have at least 8 characters/);
  t.equal(
    (await anon.call('POST', '/api/setup', undefined, { raw: `setupCode=${code}`, contentType: 'application/x-www-form-urlencoded' }))
      .status,
    415,
    'a form post is refused (CSRF)',
  );
  t.equal(
    (await anon.call('POST', '/api/setup', { setupCode: code, password: PASSWORD }, { headers: { origin: 'http://evil.example' } })).status,
    403,
    'another origin is refused',
  );
  const missing = await anon.call('POST', '/api/setup', { password: PASSWORD });
  t.equal(missing.status, 400);
  t.match(missing.body.error, /^setupCode: is required/);

  client = new WebClient(anon.base);
  const ok = await client.call('POST', '/api/setup', { setupCode: code, password: PASSWORD });
  t.equal(ok.status, 200);
  const cookie = ok.headers.get('set-cookie') ?? '';
  t.match(cookie, /^wallbox_session=[\w-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
  t.equal((await anon.call('POST', '/api/setup', { setupCode: code, password: 'another one!' })).status, 409, 'only once');

  const stored = storedJson(join(dataDir, 'http-password.json'));
  t.match(stored, { algorithm: 'scrypt', N: Number, r: Number, p: Number, salt: String, hash: String });
  t.equal(statSync(join(dataDir, 'http-password.json')).mode & 0o777, 0o600);
  t.same((await client.call('GET', '/api/auth')).body, { passwordSet: true, loggedIn: true });
});

t.test('login: wrong password 401, right one gives a session', async (t) => {
  const other = new WebClient(anon.base);
  const wrong = await other.call('POST', '/api/login', { password: 'not it at all' });
  t.equal(wrong.status, 401);
  t.equal(wrong.body.error, 'wrong password');
  t.equal((await other.call('POST', '/api/login', { pass: PASSWORD })).status, 400, 'unknown key');
  t.equal((await other.call('POST', '/api/login', { password: PASSWORD })).status, 200);
  t.equal((await other.call('GET', '/api/status')).status, 200);
  t.equal((await anon.call('GET', '/api/status', undefined, { cookie: 'wallbox_session=forged' })).status, 401, 'a forged cookie');
});

t.test('routing: unknown route 404, wrong method 405 with Allow, bad JSON 400, too large 413', async (t) => {
  t.equal((await client.call('GET', '/api/nothing')).status, 404);
  const wrongMethod = await client.call('DELETE', '/api/status');
  t.equal(wrongMethod.status, 405);
  t.equal(wrongMethod.headers.get('allow'), 'GET');
  t.equal((await client.call('POST', '/api/charging', undefined, { raw: '{"paused":' })).status, 400);
  t.equal((await client.call('POST', '/api/charging', undefined, { raw: '' })).status, 400);
  t.equal((await client.call('PATCH', '/api/config', undefined, { raw: JSON.stringify({ pad: 'x'.repeat(70_000) }) })).status, 413);
  t.equal((await client.call('GET', '/nothing.html')).status, 404);
  const page = await fetch(`${anon.base}/`);
  t.equal(page.status, 200, 'the page needs no session');
  t.match(await page.text(), /<title>Wallbox<\/title>/);
  t.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  t.equal((await fetch(`${anon.base}/app.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
});

t.test('status: CP state, offer and its limiter, contactor, meter, Modbus, faults', async (t) => {
  const status = (await client.call('GET', '/api/status')).body;
  t.match(status, {
    connector: { status: 'Available', errorCode: 'NoError' },
    charging: { cp: 'A', offeredA: 0, limitA: 32, limitedBy: 'hardware', userPaused: false, contactorClosed: false },
    meter: { energyWh: Number, powerW: 0 },
    modbus: { limitA: 32, enabled: true, watchdog: { timeoutS: 0, fired: false } },
    ocpp: null,
    faults: [],
    faultHistory: [],
    sample: { t: Number, currentA: 0, powerW: 0 },
  });
});

/** Reads the live stream until an event of `name` whose data `accept` takes. */
async function nextLive(res: Response, name: string, accept: (data: any) => boolean, timeoutMs = 10_000): Promise<any> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const { value, done } = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no ${name} event within ${timeoutMs} ms`)), deadline - Date.now()),
        ),
      ]);
      if (done) throw new Error('the stream ended');
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === name && data !== undefined && accept(JSON.parse(data))) return JSON.parse(data);
      }
    }
    throw new Error(`no ${name} event within ${timeoutMs} ms`);
  } finally {
    reader.releaseLock();
  }
}

t.test('live stream: the car starts charging, seen as it happens; pause and resume', async (t) => {
  const res = await fetch(`${anon.base}/api/live`, { headers: { cookie: client.cookie! } });
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  t.teardown(() => res.body?.cancel());
  await box.settle(nextLive(res, 'status', (s) => s.charging.cp === 'A'));
  await box.simPost('/sim/ev', { state: 'C' });
  const charging = await box.settle(nextLive(res, 'status', (s) => s.charging.contactorClosed && s.meter.powerW > 0));
  t.match(charging, { connector: { status: 'Charging' }, charging: { cp: 'C', offeredA: 32 } });
  t.ok(charging.sample.currentA > 30, 'the chart point carries the current');

  const bad = await client.call('POST', '/api/charging', { paused: 'yes' });
  t.equal(bad.status, 400);
  t.equal(bad.body.error, 'paused: must be boolean');
  t.equal((await box.sim())['relayClosed'], true, 'bad input changed nothing');

  const paused = await client.call('POST', '/api/charging', { paused: true });
  t.match(paused.body.charging, { userPaused: true, pausedBy: 'userPaused', offeredA: 0 });
  await box.pace(() => box.snapshot()['relayClosed'] === false && box.snapshot()['pilot'] === 'x1');
  await box.settle(nextLive(res, 'status', (s) => s.connector.status === 'SuspendedEVSE'));
  await client.call('POST', '/api/charging', { paused: false });
  await box.pace(() => box.snapshot()['pilot'] === 'pwm');
  t.equal((await client.call('GET', '/api/status')).body.charging.pausedBy, null);
});

t.test('past transactions: without OCPP a plug-in to unplug is one session with its energy', async (t) => {
  // Charging again after the resume, for some Wh more.
  await box.pace(() => box.snapshot()['relayClosed'] === true && box.snapshot()['meter']['powerW'] > 0);
  const resumedWh = box.snapshot()['meter']['energyWh'];
  await box.pace(() => box.snapshot()['meter']['energyWh'] >= resumedWh + 5);
  await box.simPost('/sim/ev', { state: 'A' });
  const history = await box.poll(
    async () => (await client.call('GET', '/api/transactions')).body,
    (h: any[]) => h.length === 1,
  );
  t.match(history[0], { source: 'local', transactionId: null, reason: 'EVDisconnected', startedAt: String, stoppedAt: String });
  t.ok(
    history[0].energyWh > 0 && history[0].energyWh === history[0].meterStopWh - history[0].meterStartWh,
    `energy ${history[0].energyWh} Wh`,
  );
  const readStored = async (): Promise<any[]> => {
    try {
      return storedJson(join(dataDir, 'transaction-history.json')) as any[];
    } catch {
      return []; // written just after the answer
    }
  };
  const stored = await box.poll(readStored, (h) => h.length === 1);
  t.same(stored, history, 'kept in dataDir');
});

t.test('config: read with the secret masked, bad input names the key and changes nothing, writes go to the overlay', async (t) => {
  const before = (await client.call('GET', '/api/config')).body;
  t.match(before.config, { evse: { maxCurrentA: 32 }, ocpp: null, http: { port: 0 } });
  t.equal(before.writable['ocpp'], 'now');
  t.equal(before.writable['modbus.tcp'], 'restart');
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => busy.close());
  const busyPort = (busy.address() as AddressInfo).port;
  const cases: Array<[unknown, RegExp, number?]> = [
    [{ evse: { maxCurrentA: 100 } }, /^evse\.maxCurrentA: must be <= 80$/],
    [{ evse: { phases: 2 } }, /^evse\.phases: /],
    [{ modbus: { rtu: { path: '/dev/ttyS1', parity: 'mark' } } }, /^modbus\.rtu\.parity: /],
    [{ modbus: { tcp: { host: '127.0.0.1', port: 70000 } } }, /^modbus\.tcp\.port: must be <= 65535$/],
    [{ ocpp: { url: 'http://backend/ocpp', chargeBoxId: 'box' } }, /^ocpp\.url: must match pattern/],
    [{ ocpp: { url: 'ws://backend/ocpp' } }, /^ocpp\.chargeBoxId: is required$/],
    [{ dataDir: '/tmp/elsewhere' }, /^dataDir: not writable from the web interface/],
    [{ sim: { controlPort: 1 } }, /^sim: not writable/],
    [{ grid: { limitW: -5 } }, /^grid\.limitW: must be >= 0$/],
    [{ grid: { activeWhen: 'sometimes' } }, /^grid\.activeWhen: /],
    [{ ocpp: { url: 'ws://backend/ocpp', chargeBoxId: 'box', offlineLimitA: 3 } }, /^ocpp\.offlineLimitA: must be null or /],
    [{ ocpp: { url: 'ws://backend/ocpp', chargeBoxId: 'box', offlineAfterS: -1 } }, /^ocpp\.offlineAfterS: must be >= 0$/],
    [{ colour: 'red' }, /^colour: unknown key$/],
    [{ evse: { maxCurrentA: 16, turbo: true } }, /^evse\.turbo: unknown key$/],
    [[1, 2], /^body: must be a JSON object$/],
    [{ evse: 5 }, /^evse: must be an object$/],
    // Settings that would brick the next start: tried now (bound, opened), refused naming the key.
    [{ http: { host: 'no-such-host.invalid', port: 8080 } }, /^http\.host: no-such-host\.invalid is not an address of this box/],
    [{ http: { host: '192.0.2.1', port: 8080 } }, /^http\.host: 192\.0\.2\.1 is not an address of this box/],
    [{ http: { host: '127.0.0.1', port: box.modbusPort } }, new RegExp(`^http\\.port: ${String(box.modbusPort)} is in use`)],
    [{ http: { host: '127.0.0.1', port: busyPort } }, new RegExp(`^http\\.port: ${busyPort} is in use`)],
    [
      { http: { host: '127.0.0.1', port: 4800 }, modbus: { tcp: { host: '0.0.0.0', port: 4800 } } },
      /^http\.port: 4800 is modbus\.tcp's port$/,
    ],
    [{ modbus: { tcp: { host: '127.0.0.1', port: busyPort } } }, new RegExp(`^modbus\\.tcp\\.port: ${busyPort} is in use`)],
    [{ modbus: { tcp: { host: '127.0.0.1', port: box.httpPort } } }, /^modbus\.tcp\.port: \d+ is in use/],
    [{ modbus: { rtu: { path: '/dev/no-such-tty' } } }, /^modbus\.rtu\.path: cannot open \/dev\/no-such-tty \(ENOENT\)$/],
  ];
  for (const [patch, reason, status = 400] of cases) {
    const reply = await client.call('PATCH', '/api/config', patch);
    t.equal(reply.status, status, JSON.stringify(patch));
    t.match(reply.body.error, reason);
  }
  t.same((await client.call('GET', '/api/config')).body, before, 'nothing changed');

  // /dev/ptmx: a terminal device every Linux box has (a missing one is refused above).
  const ok = await client.call('PATCH', '/api/config', { modbus: { timeoutS: 30, rtu: { path: '/dev/ptmx' } }, evse: { maxCurrentA: 16 } });
  t.equal(ok.status, 200);
  t.same(ok.body.changed, [
    { key: 'evse.maxCurrentA', apply: 'restart' },
    { key: 'modbus.rtu', apply: 'restart' },
    { key: 'modbus.timeoutS', apply: 'restart' },
  ]);
  t.same(ok.body.pendingRestart.sort(), ['evse.maxCurrentA', 'modbus.rtu', 'modbus.timeoutS']);
  t.match(ok.body.config.modbus.rtu, { path: '/dev/ptmx', baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 });
  const overlay = storedJson(join(dataDir, 'config-overlay.json'));
  t.match(overlay, { 'evse.maxCurrentA': { value: 16, fileValue: 32 }, 'modbus.timeoutS': { value: 30 } });
  t.same((await client.call('PATCH', '/api/config', { evse: { maxCurrentA: 16 } })).body.changed, [], 'the same value again is no change');
  t.equal((await client.call('GET', '/api/status')).body.charging.limitA, 32, 'a restart key is not in force yet');
});

t.test('certificates need an OCPP configuration; bad PEM is refused', async (t) => {
  t.equal((await client.call('PUT', '/api/certs/ca', { pem: 'x' })).status, 409);
  const empty = await client.call('PUT', '/api/certs/ca', { pem: '' });
  t.equal(empty.status, 400);
  t.match(empty.body.error, /^pem: /);
  t.equal((await client.call('PUT', '/api/certs/client', { cert: 'x' })).status, 400);
});

t.test('events: logins, state changes, config changes, most recent last', async (t) => {
  const events = (await client.call('GET', '/api/events')).body as Array<{ kind: string; text: string; time: string; seq: number }>;
  const texts = events.map((e) => e.text);
  t.ok(texts.some((x) => /^web password set with the setup code from /.test(x)));
  t.ok(texts.some((x) => /^failed login from /.test(x)));
  t.ok(
    texts.some((x) => /^car state C \(was [AB]\)$/.test(x)),
    'the car asked for power',
  );
  t.ok(texts.some((x) => /^contactor closed, 32 A offered$/.test(x)));
  t.ok(texts.includes('charging paused by the owner'));
  t.ok(texts.some((x) => x.startsWith('changed: evse.maxCurrentA, modbus.rtu, modbus.timeoutS')));
  t.ok(events.every((e, i) => i === 0 || e.seq > (events[i - 1] as { seq: number }).seq));
  const samples = (await client.call('GET', '/api/samples')).body;
  t.ok(Array.isArray(samples) && samples.length >= 1);
  t.match(samples[0], { t: Number, currentA: Number, powerW: Number, offeredA: Number });
});

t.test('password change: the current one is needed, other sessions end', async (t) => {
  const phone = new WebClient(anon.base);
  t.equal((await phone.call('POST', '/api/login', { password: PASSWORD })).status, 200);
  const wrong = await client.call('POST', '/api/password', { current: 'not the password', password: 'a new password' });
  t.equal(wrong.status, 403);
  t.equal(wrong.body.error, 'current: wrong password');
  const short = await client.call('POST', '/api/password', { current: PASSWORD, password: 'tiny' });
  t.equal(short.status, 400);
  t.match(short.body.error, /^password: must have at least 8/);
  t.equal((await client.call('POST', '/api/password', { current: PASSWORD, password: 'a new password' })).status, 204);
  t.equal((await phone.call('GET', '/api/status')).status, 401, 'the other session ended');
  t.equal((await client.call('GET', '/api/status')).status, 200, 'this one goes on');
  t.equal((await phone.call('POST', '/api/login', { password: 'a new password' })).status, 200);
  t.equal((await client.call('POST', '/api/password', { current: 'a new password', password: PASSWORD })).status, 204);
});

let sessionValue = '';

t.test('logout ends the session on the server and the live stream', async (t) => {
  const cookie = client.cookie!;
  sessionValue = cookie.split('=')[1] ?? '';
  const res = await fetch(`${anon.base}/api/live`, { headers: { cookie } });
  const ended = (async () => {
    const reader = res.body!.getReader();
    for (;;) if ((await reader.read()).done) return true;
  })();
  const out = await client.call('POST', '/api/logout', {});
  t.equal(out.status, 204);
  t.match(out.headers.get('set-cookie'), /Max-Age=0/);
  t.equal((await anon.call('GET', '/api/status', undefined, { cookie })).status, 401, 'the old cookie is dead');
  t.equal(await ended, true, 'the stream was closed');
});

t.test('failed logins are rate limited per client with a growing wait (429, Retry-After)', async (t) => {
  const guesser = new WebClient(anon.base);
  const statuses: number[] = [];
  // One failed login and a wrong setup code were counted above.
  for (let i = 0; i < 5; i++) statuses.push((await guesser.call('POST', '/api/login', { password: `guess ${i}` })).status);
  t.ok(statuses.includes(429), `statuses ${statuses.join(',')}`);
  const blocked = await guesser.call('POST', '/api/login', { password: PASSWORD });
  t.equal(blocked.status, 429, 'even the right password waits');
  t.match(blocked.headers.get('retry-after'), /^\d+$/);
  t.match(blocked.body.error, /too many failed attempts/);
  const waitS = Number(blocked.headers.get('retry-after'));
  await box.advance(waitS * 1000 + 50);
  t.equal((await guesser.call('POST', '/api/login', { password: PASSWORD })).status, 200, 'after the wait the right password works');
});

t.test('no secret in any log line', async (t) => {
  const logs = JSON.stringify(box.logs.lines);
  t.notOk(logs.includes(PASSWORD));
  t.notOk(logs.includes('guess 1'));
  t.notOk(logs.includes('a new password'));
  t.ok(sessionValue.length > 20);
  t.notOk(logs.includes(sessionValue), 'nor the session token');
});

import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { boxRigFor } from '../helpers/box-rig.js';
import { runTool } from '../helpers/firmware-process.js';
import { makeCertificates, type Certificates } from '../helpers/tls-fixtures.js';
import { HTTP_ON_ANY_PORT, setUpAndLogIn, WebClient } from '../helpers/web-client.js';

/**
 * The OCPP side of the web API against real central systems, the box in-process on the simulated
 * clock (box-rig.ts): new settings make the box reconnect (a running transaction is closed with
 * Reboot, never lost, and a new one starts at the new backend), the password is write-only,
 * certificates are uploaded and used. The installer's password tool runs as a process.
 */

const PASSWORD = 'installer secret 1';
// The cases run side by side (after the certificates): each has its own folder, box and peers,
// and most of their time is waiting for them.
t.jobs = 4;

let certs: Certificates;
t.before(() => {
  const dir = join(t.testdirName, 'certs');
  mkdirSync(dir, { recursive: true });
  certs = makeCertificates(dir);
});

async function centralSystem(t: Test): Promise<CentralSystem> {
  const cs = await startCentralSystem();
  t.teardown(() => cs.close());
  return cs;
}

t.test('a new OCPP URL: the box stops the transaction with Reboot, reconnects and charges on at the new backend', async (t) => {
  const first = await centralSystem(t);
  const second = await centralSystem(t);
  const box = await boxRigFor(t, {
    ...HTTP_ON_ANY_PORT,
    ocpp: { url: first.url, chargeBoxId: 'box-web', password: 'ocpp-key-123', fixedIdTag: 'OWNER01' },
  });
  const client = await setUpAndLogIn(box, PASSWORD);
  await box.settle(first.waitForCall('BootNotification'));
  await box.simPost('/sim/ev', { state: 'C' });
  const started = await box.settle(first.waitForCall('StartTransaction'));
  await box.pace(() => box.snapshot()['relayClosed'] === true);
  const status = (await client.call('GET', '/api/status')).body;
  t.match(status.ocpp, {
    url: first.url,
    chargeBoxId: 'box-web',
    bootState: 'Accepted',
    online: true,
    transaction: { idTag: 'OWNER01' },
    queued: 0,
    deadLetters: 0,
  });
  t.equal(status.connector.status, 'Charging');

  const config = (await client.call('GET', '/api/config')).body.config;
  t.equal(config.ocpp.passwordSet, true);
  t.notOk(JSON.stringify(config).includes('ocpp-key-123'), 'the OCPP password is never sent back');

  const bad = await client.call('PATCH', '/api/config', { ocpp: { url: 'ftp://x' } });
  t.equal(bad.status, 400);
  t.match(bad.body.error, /^ocpp\.url: /);

  const reply = await client.call('PATCH', '/api/config', { ocpp: { url: second.url } });
  t.equal(reply.status, 200);
  t.same(reply.body.changed, [{ key: 'ocpp', apply: 'now' }]);
  const stop = await box.settle(first.waitForCall('StopTransaction'));
  t.match(stop.params, { transactionId: Number, reason: 'Reboot', idTag: started.params['idTag'] });
  await box.settle(second.waitForCall('BootNotification'));
  t.match(second.connections[0], { identity: 'box-web', password: 'ocpp-key-123', protocol: 'ocpp1.6' }, 'the stored password is kept');
  const restarted = await box.settle(second.waitForCall('StartTransaction'));
  t.match(restarted.params, { idTag: 'OWNER01', connectorId: 1 });
  await box.poll(
    async () => (await client.call('GET', '/api/status')).body,
    (s: any) => s.ocpp.url === second.url && s.ocpp.online && s.ocpp.transaction?.transactionId !== null,
  );
  const history = (await client.call('GET', '/api/transactions')).body;
  t.match(history, [{ source: 'ocpp', idTag: 'OWNER01', reason: 'Reboot', energyWh: Number }]);
  // The link is looked at once a second for the events.
  const events = await box.poll(
    async () => (await client.call('GET', '/api/events')).body.map((e: { text: string }) => e.text) as string[],
    (texts) => texts.includes(`OCPP connected to ${second.url}`),
  );
  t.ok(events.includes('changed: ocpp'));

  // The password can be replaced but not read; "" clears it.
  await client.call('PATCH', '/api/config', { ocpp: { password: '' } });
  t.equal((await client.call('GET', '/api/config')).body.config.ocpp.passwordSet, false);
  t.notOk(JSON.stringify(box.logs.lines).includes('ocpp-key-123'), 'the OCPP password is in no log line');
  t.notOk(JSON.stringify(box.logs.lines).includes(PASSWORD), 'nor the web password');

  // OCPP switched off from the web: no charge point, charging no longer waits for a transaction.
  await client.call('PATCH', '/api/config', { ocpp: null });
  await box.poll(
    async () => (await client.call('GET', '/api/status')).body,
    (s: any) => s.ocpp === null && s.charging.pausedBy === null,
  );
});

t.test('CA certificate upload: stored 0600 in dataDir, ocpp.caFile set, the box connects over wss://', async (t) => {
  const tls = await startCentralSystem({ tls: certs.server });
  t.teardown(() => tls.close());
  const connected = () => tls.connections.map((c) => c.identity);
  const dir = t.testdir({});
  const box = await boxRigFor(t, { ...HTTP_ON_ANY_PORT, ocpp: { url: tls.url.replace('ws://', 'wss://'), chargeBoxId: 'box-ca' } });
  const client = await setUpAndLogIn(box, PASSWORD);
  await box.fw.waitForLog((l) => l['msg'] === 'OCPP connection failed' && /certificate/i.test(String(l['reason'])));
  t.same(connected(), [], 'not without the CA: the server is not trusted');

  const notPem = await client.call('PUT', '/api/certs/ca', { pem: 'hello' });
  t.equal(notPem.status, 400);
  t.match(notPem.body.error, /^pem: no PEM certificate/);
  const broken = await client.call('PUT', '/api/certs/ca', { pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' });
  t.equal(broken.status, 400);
  t.match(broken.body.error, /^pem: not a valid certificate/);

  const ok = await client.call('PUT', '/api/certs/ca', { pem: readFileSync(certs.ca, 'utf8') });
  t.equal(ok.status, 200);
  t.match(ok.body.certificates, [{ subject: /CN=Test ca/, fingerprint256: String }]);
  const caFile = join(dir, 'data', 'certs', 'ocpp-ca.pem');
  t.equal(ok.body.caFile, caFile);
  t.equal(statSync(caFile).mode & 0o777, 0o600);
  t.equal((await client.call('GET', '/api/config')).body.config.ocpp.caFile, caFile);
  await box.pace(() => connected().length > 0);
  t.same(connected(), ['box-ca']);
});

t.test('client certificate upload: the key must match; it is stored 0600 and never shown or logged', async (t) => {
  const tls = await startCentralSystem({ tls: { ...certs.server, clientCa: certs.ca, requireClientCertificate: true } });
  t.teardown(() => tls.close());
  const connected = () => tls.connections.map((c) => c.identity);
  const box = await boxRigFor(t, {
    ...HTTP_ON_ANY_PORT,
    ocpp: { url: tls.url.replace('ws://', 'wss://'), chargeBoxId: 'box-tls', caFile: certs.ca },
  });
  const client = await setUpAndLogIn(box, PASSWORD);
  const cert = readFileSync(certs.client.cert, 'utf8');
  const key = readFileSync(certs.client.key, 'utf8');
  const mismatch = await client.call('PUT', '/api/certs/client', { cert, key: readFileSync(certs.server.key, 'utf8') });
  t.equal(mismatch.status, 400);
  t.equal(mismatch.body.error, 'key: does not match the certificate');
  const notKey = await client.call('PUT', '/api/certs/client', { cert, key: 'nonsense' });
  t.equal(notKey.body.error, 'key: not an unencrypted PEM private key');
  t.same(connected(), [], 'profile 3 refuses the box without a client certificate');

  const ok = await client.call('PUT', '/api/certs/client', { cert, key });
  t.equal(ok.status, 200);
  t.match(ok.body.certificate, { subject: /CN=box-tls/ });
  t.equal(statSync(ok.body.keyFile).mode & 0o777, 0o600);
  await box.pace(() => connected().length > 0);
  const keyBody = key.split('\n')[1] ?? '';
  t.ok(keyBody.length > 20);
  t.notOk(JSON.stringify(box.logs.lines).includes(keyBody), 'the key is in no log line');
  t.notOk(JSON.stringify((await client.call('GET', '/api/config')).body).includes(keyBody));
});

t.test('npm run http-password: the installer sets the password while the firmware runs', async (t) => {
  const box = await boxRigFor(t, HTTP_ON_ANY_PORT);
  const dir = t.testdirName;
  const result = await runTool(['--config', 'config.json'], dir, { tool: 'http-password', stdin: 'set by the installer\n' });
  t.equal(result.code, 0, result.stderr);
  t.match(JSON.parse(result.stdout), { written: /http-password\.json$/ });
  t.equal(statSync(join(dir, 'data', 'http-password.json')).mode & 0o777, 0o600);
  const client = new WebClient(`http://127.0.0.1:${box.httpPort}`);
  t.equal((await client.call('POST', '/api/login', { password: 'set by the installer' })).status, 200);
  const short = await runTool(['--config', 'config.json'], dir, { tool: 'http-password', stdin: 'short\n' });
  t.equal(short.code, 2);
  t.match(short.stderr, /at least 8 characters/);
});

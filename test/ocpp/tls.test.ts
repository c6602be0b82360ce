import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runFirmware, startBox } from '../helpers/firmware-process.js';
import { startCentralSystem } from '../helpers/central-system.js';
import { makeCertificates, type Certificates } from '../helpers/tls-fixtures.js';

/**
 * OCPP over TLS (security profiles 2 and 3) against a real TLS server (ocpp-rpc's strict server
 * on https.createServer) with certificates made by openssl: the server must chain to
 * ocpp.caFile and match the host name, and not be expired; profile 3 presents a client
 * certificate. The firmware runs as a child process.
 */

// The cases run side by side (after the certificates): each starts its own central system or TLS
// server and box, and most of their time is a box connecting or backing off.
t.jobs = 4;

let certs: Certificates;
t.before(() => {
  const dir = join(t.testdirName, 'certs');
  mkdirSync(dir, { recursive: true });
  certs = makeCertificates(dir);
});

/**
 * Starts the box against `cs` with `ocpp` settings; true when it completed the WebSocket handshake,
 * false when its first two attempts failed (attempts 0 and 1: the retry after the backoff is refused
 * too). The refusals used to wait 4 s for a connection that did not come.
 */
async function connects(
  t: Test,
  server: { cert: string; key: string },
  ocpp: Record<string, unknown>,
  clientCa?: string,
): Promise<{ ok: boolean; logs: Array<Record<string, unknown>> }> {
  const cs = await startCentralSystem({ tls: { ...server, ...(clientCa !== undefined && { clientCa, requireClientCertificate: true }) } });
  t.teardown(() => cs.close());
  const box = await startBox(t.testdir({}), {
    ocpp: { url: cs.url.replace('ws://', 'wss://'), chargeBoxId: 'box-tls', password: 'secret-pw', fixedIdTag: '', ...ocpp },
  });
  t.teardown(() => box.fw.kill());
  const outcome = await box.fw.waitForLog(
    (l) => l['msg'] === 'OCPP connected' || (l['msg'] === 'OCPP connection failed' && l['attempt'] === 1),
    10_000,
  );
  return { ok: outcome['msg'] === 'OCPP connected', logs: box.fw.logs };
}

t.test('profile 2: connects with the right CA', async (t) => {
  const { ok, logs } = await connects(t, certs.server, { caFile: certs.ca });
  t.ok(ok);
  t.notOk(JSON.stringify(logs).includes('secret-pw'), 'the password is in no log line');
});

t.test('profile 2: refuses a server that does not chain to the CA', async (t) => {
  const { ok, logs } = await connects(t, certs.server, { caFile: certs.otherCa });
  t.notOk(ok);
  t.ok(
    logs.some((l) => l['msg'] === 'OCPP connection failed' && /certificate/i.test(String(l['reason']))),
    'the reason is logged',
  );
  t.ok(
    logs.some((l) => l['securityEvent'] === 'InvalidCentralSystemCertificate'),
    'and kept as a security event',
  );
});

t.test('profile 2: refuses a certificate for another host name', async (t) => {
  const { ok, logs } = await connects(t, certs.wrongHost, { caFile: certs.ca });
  t.notOk(ok);
  t.ok(logs.some((l) => l['msg'] === 'OCPP connection failed' && /altname|host/i.test(String(l['reason']))));
  t.ok(logs.some((l) => l['securityEvent'] === 'InvalidCentralSystemCertificate'));
});

t.test('profile 2: refuses an expired certificate', async (t) => {
  const { ok, logs } = await connects(t, certs.expired, { caFile: certs.ca });
  t.notOk(ok);
  t.ok(logs.some((l) => l['msg'] === 'OCPP connection failed' && /expired/i.test(String(l['reason']))));
  t.ok(logs.some((l) => l['securityEvent'] === 'InvalidCentralSystemCertificate'));
});

t.test('ocpp.insecureTls connects to a server it cannot verify, and says so', async (t) => {
  const { ok, logs } = await connects(t, certs.server, { insecureTls: true });
  t.ok(ok);
  t.ok(logs.some((l) => l['level'] === 'warn' && /not verified/.test(String(l['msg']))));
  t.ok(
    logs.some((l) => l['securityEvent'] === 'InvalidCentralSystemCertificate' && /insecureTls/.test(String(l['techInfo']))),
    'reported as a security event',
  );
});

t.test('profile 3: refused without a client certificate, accepted with one', async (t) => {
  t.notOk((await connects(t, certs.server, { caFile: certs.ca }, certs.ca)).ok, 'no client certificate: refused');
  t.ok(
    (await connects(t, certs.server, { caFile: certs.ca, certFile: certs.client.cert, keyFile: certs.client.key }, certs.ca)).ok,
    'with one: connected',
  );
});

/** A TLS server that only speaks what `options` allow: the box must refuse it in the handshake and report `event`. */
async function refusedHandshake(t: Test, options: TlsOptions, event: string): Promise<void> {
  const server = createTlsServer({ cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key), ...options }, (socket) =>
    socket.destroy(),
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const box = await startBox(t.testdir({}), {
    ocpp: { url: `wss://localhost:${(server.address() as AddressInfo).port}/ocpp`, chargeBoxId: 'box-tls', caFile: certs.ca },
  });
  t.teardown(() => box.fw.kill());
  await box.fw.waitForLog((l) => l['msg'] === 'OCPP connection failed');
  await box.fw.waitForLog((l) => l['securityEvent'] === event, 2000);
  t.pass(`reported as ${event}`);
}

t.test('a server offering only TLS 1.1 is refused: InvalidTLSVersion', async (t) => {
  await refusedHandshake(t, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, 'InvalidTLSVersion');
});

t.test('a TLS 1.2 server without the whitepaper cipher suites is refused: InvalidTLSCipherSuite', async (t) => {
  await refusedHandshake(t, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' }, 'InvalidTLSCipherSuite');
});

t.test('an unreadable CA file is a config error naming the key (exit 2)', async (t) => {
  const dir = t.testdir({
    'config.json': JSON.stringify({
      dataDir: 'data',
      modbus: { tcp: null },
      sim: { controlPort: 0 },
      ocpp: { url: 'wss://localhost:1/ocpp', chargeBoxId: 'b', caFile: '/nonexistent/ca.pem' },
    }),
  });
  const result = await runFirmware(['--config', 'config.json'], dir);
  t.equal(result.code, 2);
  t.match(result.stderr, /ocpp\.caFile: cannot read \/nonexistent\/ca\.pem: ENOENT/);
});

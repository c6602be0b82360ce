import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { systemClock } from '../../hal/clock.js';
import { createLogger, silentLogger } from '../../firmware/log.js';
import { OcppConnection, type LinkFailure } from '../../firmware/ocpp/connection.js';
import { LinkSecurity } from '../../firmware/ocpp/link-security.js';
import { CertificateStore } from '../../firmware/ocpp/model/certificate-store.js';
import { OcppConfiguration } from '../../firmware/ocpp/model/configuration.js';
import { OcppRpc } from '../../firmware/ocpp/rpc.js';
import { SecurityEvents } from '../../firmware/ocpp/security-events.js';
import { issueCertificate } from '../../firmware/ocpp/x509.js';
import { startCentralSystem } from '../helpers/central-system.js';

/**
 * A box without a set clock (no RTC, no time source yet) must still reach its central system over
 * TLS, without giving up the chain and host name checks: the real link (LinkSecurity and
 * OcppConnection) against a TLS central system whose certificate becomes valid only tomorrow, so
 * that OpenSSL on this machine reports a date error as it would on a box whose clock is in 1970.
 */

const UNSET = Date.parse('1970-01-02T00:00:00Z');
const DAY_MS = 86_400_000;

interface Outcome {
  readonly opened: boolean;
  readonly failure?: LinkFailure;
  readonly warnings: string[];
}

async function pki(dir: string) {
  const ca = await issueCertificate({ role: 'ca', commonName: 'Root', days: 30, notBefore: new Date(Date.now() - DAY_MS) });
  const other = await issueCertificate({ role: 'ca', commonName: 'Other', days: 30, notBefore: new Date(Date.now() - DAY_MS) });
  const tomorrow = new Date(Date.now() + DAY_MS);
  const server = (issuer: typeof ca, hosts: string[]) =>
    issueCertificate({
      role: 'server',
      commonName: hosts[0]!,
      hosts,
      days: 30,
      notBefore: tomorrow,
      issuer: { certPem: ca.certPem, keyPem: issuer.keyPem as string },
    });
  const files: Record<string, string> = {};
  const write = (name: string, text: string): string => {
    files[name] = join(dir, name);
    writeFileSync(files[name]!, text);
    return files[name]!;
  };
  write('ca.crt', ca.certPem);
  const good = await server(ca, ['localhost']);
  const elsewhere = await server(ca, ['backend.example']);
  const foreign = await issueCertificate({
    role: 'server',
    commonName: 'localhost',
    hosts: ['localhost'],
    days: 30,
    notBefore: tomorrow,
    issuer: { certPem: other.certPem, keyPem: other.keyPem as string },
  });
  return {
    ca: files['ca.crt']!,
    good: { cert: write('good.crt', good.certPem), key: write('good.key', good.keyPem!) },
    elsewhere: { cert: write('elsewhere.crt', elsewhere.certPem), key: write('elsewhere.key', elsewhere.keyPem!) },
    foreign: { cert: write('foreign.crt', foreign.certPem), key: write('foreign.key', foreign.keyPem!) },
  };
}

async function attempt(
  t: Test,
  server: { cert: string; key: string },
  ca: string,
  hostMs: number,
  knownMs: number | null,
): Promise<Outcome> {
  const cs = await startCentralSystem({ tls: server });
  t.teardown(() => cs.close());
  const warnings: string[] = [];
  const log = createLogger({ level: 'warn', write: (line) => warnings.push(String(JSON.parse(line).msg)) });
  const certificates = await CertificateStore.load(null, silentLogger);
  const loaded = await LinkSecurity.load({
    settings: { url: cs.url.replace('ws://', 'wss://'), password: 'pw', caFile: ca, insecureTls: false },
    certificates,
    dataDir: null,
    saveAuthorizationKey: async () => {},
    log,
    hostClockMs: () => hostMs,
  });
  const rpc = new OcppRpc({ clock: systemClock, log: silentLogger });
  const events = new SecurityEvents({ rpc, log: silentLogger, timestamp: () => new Date().toISOString(), canSend: () => false });
  const configuration = await OcppConfiguration.load(null, silentLogger);
  const link = new LinkSecurity(loaded, { events, configuration, knownTimeMs: () => knownMs });
  return new Promise<Outcome>((resolve) => {
    const connection = new OcppConnection({
      url: link.target.url,
      chargeBoxId: 'box',
      password: link.target.password,
      ...(link.target.tls !== undefined && { tls: link.target.tls }),
      rpc,
      clock: systemClock,
      log: silentLogger,
      pingIntervalS: 0,
      onOpen: () => void connection.stop().then(() => resolve({ opened: true, warnings })),
      onClose: () => {},
      onUnreachable: (failure) => void connection.stop().then(() => resolve({ opened: false, failure, warnings })),
    });
    link.onRetarget((target, why) => connection.retarget(target, why));
    connection.start();
  });
}

let certs: Awaited<ReturnType<typeof pki>>;
t.before(async () => {
  mkdirSync(t.testdirName, { recursive: true });
  certs = await pki(t.testdirName);
});

t.test(
  'clock not set, time not known: the server is accepted on its chain and host name, and the unchecked dates are logged',
  async (t) => {
    const outcome = await attempt(t, certs.good, certs.ca, UNSET, null);
    t.equal(outcome.opened, true);
    t.ok(outcome.warnings.some((w) => /without checking its dates/.test(w)));
  },
);

t.test('clock not set, the central system time known: the dates count again (not valid until tomorrow)', async (t) => {
  const outcome = await attempt(t, certs.good, certs.ca, UNSET, Date.now());
  t.equal(outcome.opened, false);
  t.match(outcome.failure?.reason, /not valid now/);
});

t.test('a set clock: OpenSSL refuses the certificate that is not valid yet', async (t) => {
  const outcome = await attempt(t, certs.good, certs.ca, Date.now(), null);
  t.equal(outcome.opened, false);
  t.match(outcome.failure?.reason, /CERT_NOT_YET_VALID/);
});

t.test('clock not set: a server of another CA is still refused', async (t) => {
  const outcome = await attempt(t, certs.foreign, certs.ca, UNSET, null);
  t.equal(outcome.opened, false);
  t.match(outcome.failure?.reason, /refused/);
});

t.test('clock not set: a certificate for another host is still refused', async (t) => {
  const outcome = await attempt(t, certs.elsewhere, certs.ca, UNSET, null);
  t.equal(outcome.opened, false);
  t.match(outcome.failure?.reason, /refused/);
});

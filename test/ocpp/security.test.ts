import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startCentralSystem, type CentralSystem, type CentralSystemTls } from '../helpers/central-system.js';
import { pollUntil, startBox, type RunningBox } from '../helpers/firmware-process.js';
import { makeCertificates, type Certificates } from '../helpers/tls-fixtures.js';
import { ocppRig, ocppRigFor, type OcppRig, type OcppRigOptions } from '../helpers/ocpp-rig.js';
import { rigLogs, type RigLogs } from '../helpers/rig-extras.js';

/**
 * The OCPP 1.6 security extension end to end against ocpp-rpc's strict central system: where TLS
 * is the point the built firmware and a central system serving ws:// and wss:// on one port,
 * certificates made by openssl; the AuthorizationKey and the box's own security events (plain
 * ws://) in process on the simulated board and clock.
 */

// The cases run side by side (after the certificates): each has its own folder, box and peers,
// and most of their time is waiting for them.
t.jobs = 4;

let certs: Certificates;
t.before(() => {
  const dir = join(t.testdirName, 'certs');
  mkdirSync(dir, { recursive: true });
  certs = makeCertificates(dir);
});

const PASSWORD = 'initial-password-0123';
const pem = (path: string): string => readFileSync(path, 'utf8');

async function centralSystem(t: Test, tls: Partial<CentralSystemTls> = {}): Promise<CentralSystem> {
  const cs = await startCentralSystem({ tls: { cert: certs.server.cert, key: certs.server.key, ...tls } });
  cs.handlers['SecurityEventNotification'] = () => ({});
  t.teardown(() => cs.close());
  return cs;
}

/** The box, killed at the end of the test (before its folder goes). */
async function box(
  t: Test,
  dir: string,
  cs: CentralSystem,
  ocpp: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Promise<RunningBox> {
  const running = await startBox(dir, { ocpp: { url: cs.url, chargeBoxId: 'box-sec', password: PASSWORD, ...ocpp }, ...extra });
  t.teardown(() => running.fw.kill());
  return running;
}

const connected = (cs: CentralSystem, count: number, timeoutMs = 20_000) =>
  pollUntil(
    async () => cs.connections.length,
    (n) => n >= count,
    timeoutMs,
  ).then(() => cs.connections[count - 1]!);

async function configurationValue(cs: CentralSystem, key: string): Promise<Record<string, unknown> | undefined> {
  const answer = await cs.call('GetConfiguration', { key: [key] });
  return (answer.configurationKey as Array<Record<string, unknown>>).find((entry) => entry['key'] === key);
}

const securityEvent = (cs: CentralSystem, type: string, from = 0) =>
  cs.waitForCall('SecurityEventNotification', (p) => p['type'] === type, { timeoutMs: 20_000, from });

t.test(
  'SecurityProfile 1 -> 2: refused until a central system root is installed, then reconnects over TLS; never lowered; kept across a restart',
  async (t) => {
    const cs = await centralSystem(t);
    const dir = t.testdir();
    let running = await box(t, dir, cs);
    await cs.waitForCall('BootNotification');
    await securityEvent(cs, 'StartupOfTheDevice');
    t.same(await configurationValue(cs, 'SecurityProfile'), { key: 'SecurityProfile', readonly: false, value: '1' });
    t.same(
      await cs.call('ChangeConfiguration', { key: 'SecurityProfile', value: '2' }),
      { status: 'Rejected' },
      'no CentralSystemRootCertificate yet',
    );

    t.same(await cs.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: pem(certs.ca) }), {
      status: 'Accepted',
    });
    const ids = await cs.call('GetInstalledCertificateIds', { certificateType: 'CentralSystemRootCertificate' });
    t.equal(ids.status, 'Accepted');
    t.equal(ids.certificateHashData.length, 1);
    t.same(await cs.call('GetInstalledCertificateIds', { certificateType: 'ManufacturerRootCertificate' }), { status: 'NotFound' });
    t.equal(statSync(join(dir, 'data', 'ocpp-certificates.json')).mode & 0o777, 0o600, 'certificates are kept with mode 0600');

    const from = cs.calls.length;
    t.same(await cs.call('ChangeConfiguration', { key: 'SecurityProfile', value: '2' }), { status: 'Accepted' });
    const secure = await connected(cs, 2);
    t.equal(secure.secure, true, 'the next connection is wss:// on the same host and port');
    t.equal(secure.password, PASSWORD, 'with Basic auth');
    const event = await securityEvent(cs, 'ReconfigurationOfSecurityParameters', from);
    t.match(event.params['techInfo'], /SecurityProfile 1 -> 2/);
    t.same(await configurationValue(cs, 'SecurityProfile'), { key: 'SecurityProfile', readonly: false, value: '2' });
    for (const lower of ['1', '0', '2'])
      t.same(
        await cs.call('ChangeConfiguration', { key: 'SecurityProfile', value: lower }),
        { status: 'Rejected' },
        `${lower}: never lowered`,
      );

    const [rootId] = ids.certificateHashData;
    t.same(
      await cs.call('DeleteCertificate', { certificateHashData: rootId }),
      { status: 'Failed' },
      'the root the TLS link depends on cannot be deleted',
    );
    t.same(await cs.call('InstallCertificate', { certificateType: 'ManufacturerRootCertificate', certificate: pem(certs.otherCa) }), {
      status: 'Accepted',
    });
    const [makerId] = (await cs.call('GetInstalledCertificateIds', { certificateType: 'ManufacturerRootCertificate' })).certificateHashData;
    t.same(await cs.call('DeleteCertificate', { certificateHashData: makerId }), { status: 'Accepted' });
    t.same(await cs.call('DeleteCertificate', { certificateHashData: makerId }), { status: 'NotFound' });

    t.equal(await running.fw.stop(), 0);
    running = await box(t, dir, cs);
    t.equal((await connected(cs, 3)).secure, true, 'after a restart the box connects with profile 2 at once');
    await running.fw.kill();
  },
);

t.test('SecurityProfile 2 that cannot connect (the server does not chain to the installed root) falls back to profile 1', async (t) => {
  const cs = await centralSystem(t);
  const dir = t.testdir();
  const running = await box(t, dir, cs);
  await cs.waitForCall('BootNotification');
  t.same(await cs.call('InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: pem(certs.otherCa) }), {
    status: 'Accepted',
  });
  const from = cs.calls.length;
  t.same(await cs.call('ChangeConfiguration', { key: 'SecurityProfile', value: '2' }), { status: 'Accepted' });
  const fallback = await running.fw.waitForLog((l) => l['msg'] === 'security change failed; back to what worked', 30_000);
  t.equal(fallback['attempts'], 3);
  const failures = running.fw.logs.filter((l) => l['msg'] === 'OCPP connection failed');
  t.equal(failures.length, 3, 'one log line per failed attempt');
  t.ok(
    failures.every((l) => /certificate/i.test(String(l['reason']))),
    'each names the certificate',
  );
  const back = await pollUntil(
    async () => cs.connections.slice(1).find((c) => !c.secure),
    (c) => c !== undefined,
    10_000,
  );
  t.equal(back?.password, PASSWORD, 'back on ws:// with the old credentials');
  await securityEvent(cs, 'InvalidCentralSystemCertificate', from);
  t.same(await configurationValue(cs, 'SecurityProfile'), { key: 'SecurityProfile', readonly: false, value: '1' });
  await running.fw.kill();
});

t.test(
  'SignCertificate -> CertificateSigned: a key made on the box, a CSR openssl accepts, a certificate the next connection (profile 3) presents',
  async (t) => {
    const cs = await centralSystem(t, { clientCa: certs.ca });
    let csr = '';
    cs.handlers['SignCertificate'] = (params) => {
      csr = params['csr'];
      return { status: 'Accepted' };
    };
    const dir = t.testdir();
    const running = await box(t, dir, cs, { url: cs.url.replace('ws://', 'wss://'), caFile: certs.ca });
    t.equal((await connected(cs, 1)).secure, true);
    await cs.waitForCall('BootNotification');
    t.same(
      await cs.call('ChangeConfiguration', { key: 'SecurityProfile', value: '3' }),
      { status: 'Rejected' },
      'no charge point certificate yet',
    );
    t.same(
      await cs.call('ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' }),
      { status: 'Rejected' },
      'no CpoName for the O of the CSR',
    );
    t.same(await cs.call('ChangeConfiguration', { key: 'CpoName', value: 'ACME CPO' }), { status: 'Accepted' });
    t.same(await cs.call('ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' }), { status: 'Accepted' });
    await cs.waitForCall('SignCertificate');

    const work = t.testdir();
    writeFileSync(join(work, 'box.csr'), csr);
    const subject = execFileSync('openssl', ['req', '-in', 'box.csr', '-noout', '-verify', '-subject'], {
      cwd: work,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.match(subject, /CN = box-sec, O = ACME CPO/);
    const sign = (csrFile: string, out: string): string => {
      execFileSync(
        'openssl',
        [
          'x509',
          '-req',
          '-in',
          csrFile,
          '-CA',
          certs.ca,
          '-CAkey',
          certs.ca.replace(/\.crt$/, '.key'),
          '-CAcreateserial',
          '-days',
          '2',
          '-out',
          out,
        ],
        { cwd: work, stdio: 'pipe' },
      );
      return readFileSync(join(work, out), 'utf8');
    };

    // An answer for another key is refused and reported.
    const from = cs.calls.length;
    t.same(await cs.call('CertificateSigned', { certificateChain: pem(certs.client.cert) }), { status: 'Rejected' });
    const event = await securityEvent(cs, 'InvalidChargePointCertificate', from);
    t.match(event.params['techInfo'], /not for the key/);

    const signed = sign('box.csr', 'box.crt');
    t.same(await cs.call('CertificateSigned', { certificateChain: signed }), { status: 'Accepted' });
    const stored = readFileSync(join(dir, 'data', 'ocpp-certificates.json'), 'utf8');
    t.match(stored, /PRIVATE KEY/, 'the key made on the box is kept with its certificate');
    t.equal(statSync(join(dir, 'data', 'ocpp-certificates.json')).mode & 0o777, 0o600);

    t.same(await cs.call('ChangeConfiguration', { key: 'SecurityProfile', value: '3' }), { status: 'Accepted' });
    const mutual = await connected(cs, 2);
    const serial = execFileSync('openssl', ['x509', '-in', 'box.crt', '-noout', '-serial'], { cwd: work, encoding: 'utf8' })
      .trim()
      .replace('serial=', '');
    t.equal(
      mutual.clientCertificate?.serialNumber.toUpperCase(),
      serial.toUpperCase(),
      'the new connection presents the signed certificate',
    );
    t.equal(mutual.clientCertificate?.subject['CN'], 'box-sec');
    t.equal(mutual.password, null, 'profile 3: no Basic auth');
    t.same(await configurationValue(cs, 'SecurityProfile'), { key: 'SecurityProfile', readonly: false, value: '3' });
    t.notOk(JSON.stringify(running.fw.logs).includes('PRIVATE KEY'), 'no key in a log line');
    await running.fw.kill();
  },
);

/** The box in process on the simulated clock (plain ws://), its log lines kept; `dir` for a restart, else the test's folder. */
async function rigBox(t: Test, options: OcppRigOptions = {}, dir?: string): Promise<{ rig: OcppRig; logs: RigLogs }> {
  const logs = rigLogs('info');
  const withDefaults: OcppRigOptions = {
    ...options,
    log: logs.logger,
    overlay: true,
    prepare: (cs) => {
      cs.handlers['SecurityEventNotification'] = () => ({});
      options.prepare?.(cs);
    },
    ocpp: { chargeBoxId: 'box-sec', password: PASSWORD, ...options.ocpp },
  };
  const rig = dir === undefined ? await ocppRigFor(t, withDefaults) : await ocppRig(dir, withDefaults);
  if (dir !== undefined) t.teardown(() => rig.close());
  logs.useClock(rig.clock);
  return { rig, logs };
}

/** Paces until the central system has seen `count` connections; the last of them. */
async function rigConnected(rig: OcppRig, count: number) {
  await rig.pace(() => rig.cs.connections.length >= count, 60_000);
  return rig.cs.connections[count - 1]!;
}

const rigSecurityEvent = (rig: OcppRig, type: string, from = 0) =>
  rig.waitCall('SecurityEventNotification', (p) => p['type'] === type, from);

async function rigConfigurationValue(rig: OcppRig, key: string): Promise<Record<string, unknown> | undefined> {
  const answer = await rig.call('GetConfiguration', { key: [key] });
  return (answer.configurationKey as Array<Record<string, unknown>>).find((entry) => entry['key'] === key);
}

t.test(
  'AuthorizationKey: write-only, never in a log or a GetConfiguration answer; a refused key falls back; 401s are retried with backoff and reported once',
  async (t) => {
    let { rig, logs } = await rigBox(t);
    const dir = t.testdirName;
    const { cs } = rig;
    await rig.waitCall('BootNotification');
    const all = await rig.call('GetConfiguration', {});
    t.same(
      all.configurationKey.find((e: { key: string }) => e.key === 'AuthorizationKey'),
      { key: 'AuthorizationKey', readonly: false },
      'listed, without a value',
    );
    t.same(await rigConfigurationValue(rig, 'AuthorizationKey'), { key: 'AuthorizationKey', readonly: false });
    t.same(await rig.call('ChangeConfiguration', { key: 'AuthorizationKey', value: 'too-short' }), { status: 'Rejected' });

    const NEW = 'second-password-456789';
    t.same(await rig.call('ChangeConfiguration', { key: 'AuthorizationKey', value: NEW }), { status: 'Accepted' });
    t.equal((await rigConnected(rig, 2)).password, NEW, 'the next connection uses the new key');
    t.same(await rigConfigurationValue(rig, 'AuthorizationKey'), { key: 'AuthorizationKey', readonly: false });

    // A key the central system then refuses: three tries, then back to the key that worked.
    cs.acceptPassword = (password) => password === NEW;
    t.same(await rig.call('ChangeConfiguration', { key: 'AuthorizationKey', value: 'third-password-never-ok' }), {
      status: 'Accepted',
    });
    await rig.pace(() => logs.find((l) => l['msg'] === 'security change failed; back to what worked') !== undefined, 30_000);
    await rig.pace(() => cs.connections.at(-1)!.password === NEW, 10_000);
    t.equal(cs.connections.at(-1)!.password, NEW);
    const failedLines = () => logs.lines.filter((l) => l['msg'] === 'OCPP connection failed');
    const refused = failedLines();
    t.equal(refused.length, 3);
    t.ok(
      refused.every((l) => l['httpStatus'] === 401),
      'HTTP 401 each time',
    );
    await rigSecurityEvent(rig, 'FailedToAuthenticateAtCentralSystem');

    // The backend stops taking the key: attempts back off, one log line each, no tight loop.
    cs.acceptPassword = () => false;
    const before = failedLines().length;
    cs.client().close({ force: true });
    await rig.pace(() => failedLines().length - before >= 3, 20_000);
    const failed = failedLines().slice(before, before + 3);
    const attempts = failed.map((l) => Number(l['attempt']));
    t.same(attempts, [attempts[0], attempts[0]! + 1, attempts[0]! + 2], 'one line per attempt');
    // On the simulated clock: the pauses between the lines are the backoff itself.
    const gaps = failed.slice(1).map((l, i) => Date.parse(String(l['time'])) - Date.parse(String(failed[i]!['time'])));
    t.ok(
      gaps.every((ms, i) => ms >= 500 * 2 ** i),
      `growing pauses between attempts: ${gaps.join(', ')} ms`,
    );
    cs.acceptPassword = (password) => password === NEW;

    const logged = JSON.stringify(logs.lines);
    for (const secret of [PASSWORD, NEW, 'third-password-never-ok']) t.notOk(logged.includes(secret), 'no log line shows a key');
    await rig.close();
    const overlay = join(dir, 'config-overlay.json');
    t.equal(statSync(overlay).mode & 0o777, 0o600, 'the kept key is readable by the firmware only');
    ({ rig, logs } = await rigBox(t, { noWait: true }, dir));
    t.equal((await rigConnected(rig, 1)).password, NEW, 'after a restart the new key is used');
    t.notOk(JSON.stringify(logs.lines).includes(NEW));
  },
);

t.test(
  'security events of the box itself: StartupOfTheDevice, SettingSystemTime when the central system moves the clock, ResetOrReboot; sent in order once Boot is Accepted',
  async (t) => {
    const hourAhead = () => new Date(Date.now() + 3_600_000).toISOString();
    // A host clock without NTP: the central system's time is taken (CONTRACT §5).
    const { rig } = await rigBox(t, {
      config: { sim: { clockSynced: false } },
      prepare: (cs) => (cs.handlers['BootNotification'] = () => ({ status: 'Accepted', interval: 300, currentTime: hourAhead() })),
    });
    const { cs } = rig;
    const time = await rigSecurityEvent(rig, 'SettingSystemTime');
    t.match(time.params['techInfo'], /clock set from the central system by 3[56]\d{5} ms/);
    const boot = cs.calls.findIndex((c) => c.action === 'BootNotification');
    const firstEvent = cs.calls.findIndex((c) => c.action === 'SecurityEventNotification');
    t.ok(boot >= 0 && firstEvent > boot, 'nothing before BootNotification is Accepted');
    t.equal(cs.calls[firstEvent]?.params['type'], 'StartupOfTheDevice', 'in the order they happened');
    t.ok(Math.abs(Date.parse(time.params['timestamp']) - Date.parse(hourAhead())) < 60_000, 'timestamps on the central system clock');
    const from = cs.calls.length;
    t.same(await rig.call('Reset', { type: 'Soft' }), { status: 'Accepted' });
    const reset = await rigSecurityEvent(rig, 'ResetOrReboot', from);
    t.ok(
      cs.calls.slice(from).findIndex((c) => c.action === 'BootNotification') < cs.calls.slice(from).indexOf(reset),
      'reported after the new BootNotification',
    );
  },
);

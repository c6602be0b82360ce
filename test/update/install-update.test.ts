import { execFile } from 'node:child_process';
import { sign } from 'node:crypto';
import { access, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { list } from 'tar';
import { Readable } from 'node:stream';
import { parseConfig } from '../../firmware/config.js';
import { issueCertificate } from '../../firmware/ocpp/x509.js';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import {
  buildImage,
  installImage,
  makeSigningKey,
  rebrandImage,
  startFileServer,
  startInstalled,
  type BuiltImage,
  type FileServer,
} from '../helpers/firmware-image.js';
import type { FirmwareProcess } from '../helpers/firmware-process.js';
import { since, sleep, waitStatus } from '../helpers/ocpp-scenario.js';

/**
 * Issue 10 end to end: the image is built by the image tool, installed by its install.sh into a
 * temporary root and started the way systemd starts it (the unit's ExecStart: the launcher of the
 * good slot), on the simulated board against a strict OCPP central system. Updates are served by a
 * local HTTP server: one through every status to the new version (arriving during a transaction,
 * it waits for its end), a corrupt one, one that fails its health check, an older one.
 */

// The suite's longest file (about 60 s idle, one box through every case): under three suites on
// two cores it took 126 s, past the 120 s every file gets. Each wait inside has its own bound.
t.setTimeout(240_000);

const run = promisify(execFile);
const HEALTH_TIMEOUT_S = 10;
const PASSWORD = 's3cret-authorization-key';

const dir = t.testdir({ root: {}, images: {}, broken: {} });
const root = join(dir, 'root');
const opt = join(root, 'opt/wallbox');
let cs: CentralSystem;
let files: FileServer;
let box: FirmwareProcess;
let v020: BuiltImage;
let v030: BuiltImage;
let v050: BuiltImage;
let brokenUpdate = '';

t.before(async () => {
  const key = await makeSigningKey(dir);

  // The image a user makes with the tool (a build: the costly part of this file), and the newer
  // versions the updates bring: the same image with another version in its bundle and manifest,
  // packed and signed as the tool packs. A 0.4.0 that is signed and newer but never comes up
  // healthy: its firmware starts and idles.
  v020 = await buildImage(join(dir, 'images'), key, '0.2.0');
  const idle = (folder: string) =>
    writeFile(
      join(folder, 'firmware.mjs'),
      `console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'broken firmware idling' })); setInterval(() => {}, 1000);\n`,
    );
  let broken: BuiltImage;
  [v030, v050, broken] = await Promise.all([
    rebrandImage(v020, key, join(dir, 'images'), '0.3.0'),
    rebrandImage(v020, key, join(dir, 'images'), '0.5.0'),
    rebrandImage(v020, key, join(dir, 'broken'), '0.4.0', idle),
  ]);
  brokenUpdate = broken.update;

  cs = await startCentralSystem();
  cs.handlers.FirmwareStatusNotification = () => ({});
  cs.handlers.DiagnosticsStatusNotification = () => ({});
  for (const action of ['SignedFirmwareStatusNotification', 'LogStatusNotification', 'SecurityEventNotification'])
    cs.handlers[action] = () => ({});
  files = await startFileServer();
});
t.teardown(async () => {
  await box?.kill();
  await cs?.close();
  await files?.close();
});

const firmwareStatuses = (from: number): string[] => since(cs, from, 'FirmwareStatusNotification').map((c) => String(c.params['status']));
const waitFirmwareStatus = (status: string, from: number, timeoutMs = 20_000) =>
  cs.waitForCall('FirmwareStatusNotification', (p) => p['status'] === status, { from, timeoutMs });
const bootOf = (version: string, from: number, timeoutMs = 20_000) =>
  cs.waitForCall('BootNotification', (p) => p['firmwareVersion'] === version, { from, timeoutMs });

/**
 * What happened since `from` / `logsFrom`, in time order, for the test output: the central
 * system's view (BootNotification with the version, FirmwareStatusNotification, transactions)
 * and the launcher's lines.
 */
function transcript(from: number, logsFrom: number): string {
  const shown: Record<string, (p: Record<string, any>) => string> = {
    BootNotification: (p) => `BootNotification firmwareVersion=${String(p['firmwareVersion'])}`,
    FirmwareStatusNotification: (p) => `FirmwareStatusNotification ${String(p['status'])}`,
    DiagnosticsStatusNotification: (p) => `DiagnosticsStatusNotification ${String(p['status'])}`,
    SignedFirmwareStatusNotification: (p) => `SignedFirmwareStatusNotification ${String(p['status'])} requestId=${String(p['requestId'])}`,
    SecurityEventNotification: (p) => `SecurityEventNotification ${String(p['type'])}`,
    StartTransaction: (p) => `StartTransaction idTag=${String(p['idTag'])}`,
    StopTransaction: (p) => `StopTransaction reason=${String(p['reason'])}`,
  };
  const calls = since(cs, from)
    .filter((c) => shown[c.action])
    .map((c) => ({ atMs: c.atMs, text: `central system <- ${shown[c.action]!(c.params)}` }));
  const launcher = box.logs
    .slice(logsFrom)
    .filter((l) => l['module'] === 'launcher' || l['msg'] === 'broken firmware idling')
    .map((l) => {
      const { time, level: _level, msg, module, ...fields } = l;
      return {
        atMs: Date.parse(String(time ?? new Date().toISOString())),
        text: `${String(module ?? 'firmware')}: ${String(msg)} ${JSON.stringify(fields)}`,
      };
    });
  return [...calls, ...launcher]
    .sort((a, b) => a.atMs - b.atMs)
    .map((e) => `${new Date(e.atMs).toISOString().slice(11, 23)}  ${e.text}`)
    .join('\n');
}

/** The files of an uploaded .tar.gz, as text, by path. */
async function tarTexts(data: Buffer): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    const parser = list({
      onReadEntry: (entry) => {
        let text = '';
        entry.on('data', (c: Buffer) => (text += c.toString()));
        entry.on('end', () => entries.set(entry.path, text));
      },
    });
    parser.on('end', resolve).on('error', reject);
    Readable.from([data]).pipe(parser);
  });
  return entries;
}

/** UpdateFirmware for `data` served at `path`; resolves with the answer (an empty object). */
async function updateFirmware(path: string, data: Buffer | null): Promise<unknown> {
  if (data !== null) files.serve(path, data);
  return cs.call('UpdateFirmware', {
    location: `${files.base}${path}`,
    retrieveDate: new Date().toISOString(),
    retries: 1,
    retryInterval: 1,
  });
}

t.test('install: the image goes into slot a of a temporary root and starts from there like systemd starts it', async (t) => {
  const output = await installImage(v020.image, root);
  t.match(output, /installed wallbox-firmware 0\.2\.0 into .*slots\/a/);
  t.equal(await readlink(join(opt, 'current')), 'slots/a');
  t.equal(await readlink(join(opt, 'good')), 'slots/a');
  for (const file of ['firmware.mjs', 'protocol-worker.mjs', 'launcher.mjs', 'web/index.html', 'web/app.js', 'web/style.css'])
    t.ok(
      await access(join(opt, 'slots/a', file)).then(
        () => true,
        () => false,
      ),
      `the image carries ${file}`,
    );
  const unit = await readFile(join(root, 'etc/systemd/system/wallbox.service'), 'utf8');
  for (const line of [
    'User=wallbox',
    'SupplementaryGroups=gpio i2c dialout',
    'Restart=always',
    'ProtectSystem=strict',
    'ReadWritePaths=/var/lib/wallbox /opt/wallbox',
    'NoNewPrivileges=yes',
  ])
    t.ok(unit.split('\n').includes(line), `unit: ${line}`);
  const verify = await run('systemd-analyze', ['verify', join(root, 'etc/systemd/system/wallbox.service')]).catch(
    (err: { stderr?: string; code?: unknown }) => err,
  );
  if ((verify as { code?: unknown }).code === 'ENOENT') t.comment('systemd-analyze is not installed: the unit is not verified');
  else
    t.notMatch(
      verify.stderr ?? '',
      /Unknown key|Failed to parse|Invalid|Unknown section/,
      `systemd-analyze verify accepts the unit: ${verify.stderr ?? ''}`,
    );
  const rules = await readFile(join(root, 'etc/udev/rules.d/99-wallbox.rules'), 'utf8');
  for (const device of ['pwm', 'gpio', 'i2c-dev', 'tty', 'watchdog']) t.match(rules, device, `udev rule for ${device}`);
  const defaults = parseConfig(JSON.parse(await readFile(join(root, 'etc/wallbox/config.json'), 'utf8')));
  t.match(defaults, { board: 'som-ref', dataDir: '/var/lib/wallbox', ocpp: null }, 'the default config is valid: the reference SoM');
  t.comment(`image ${v020.bytes} bytes`);

  // The installer's config for this test: the sim board, free ports, the data folder in the root.
  await writeFile(
    join(root, 'etc/wallbox/config.json'),
    JSON.stringify({
      board: 'sim',
      dataDir: join(root, 'var/lib/wallbox'),
      modbus: { tcp: { host: '127.0.0.1', port: 0 } },
      sim: { controlPort: 0 },
      http: null,
      ocpp: { url: cs.url, chargeBoxId: 'box-fw', password: PASSWORD, fixedIdTag: 'FIXED' },
    }),
  );
  box = await startInstalled(root, HEALTH_TIMEOUT_S);
  await bootOf('0.2.0', 0);
  await waitStatus(cs, 'Available', 0);
  t.ok(
    box.logs.some((l) => l['module'] === 'launcher' && l['msg'] === 'starting firmware' && l['slot'] === 'a'),
    'the launcher started slot a',
  );
  const heapCap = /--max-old-space-size=\d+/.exec(unit)?.[0];
  t.ok(heapCap !== undefined, `the unit caps the heap (${heapCap})`);
  const launcherPid = box.child.pid as number;
  const [firmwarePid] = (await readFile(`/proc/${launcherPid}/task/${launcherPid}/children`, 'utf8')).trim().split(/\s+/);
  const firmwareArgs = (await readFile(`/proc/${firmwarePid}/cmdline`, 'utf8')).split('\0');
  t.ok(
    firmwareArgs.includes(heapCap ?? '-') && firmwareArgs.some((a) => a.endsWith('slots/a/firmware.mjs')),
    `the firmware runs with it: ${firmwareArgs.join(' ')}`,
  );
  t.comment(`install.sh: ${output.trim()}\n${transcript(0, 0)}`);
});

/** The sim control API of the firmware now running (each start logs its port). */
async function simPost(path: string, body: unknown): Promise<void> {
  const lines = box.logs.filter((l) => l['msg'] === 'simulator control API listening');
  const port = String(lines[lines.length - 1]?.['port']);
  await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: JSON.stringify(body) });
}

t.test(
  'an update arriving during a transaction downloads (with a retry), waits for the end, then installs 0.3.0: Downloading, Downloaded, Installing, Installed',
  async (t) => {
    const from = cs.calls.length;
    const logsFrom = box.logs.length;
    await simPost('/sim/ev', { state: 'C' });
    await cs.waitForCall('StartTransaction', () => true, { from });
    await waitStatus(cs, 'Charging', from);
    files.failNext('/fw/0.3.0.update.tar', 503, 1);
    t.same(await updateFirmware('/fw/0.3.0.update.tar', await readFile(v030.update)), {}, 'UpdateFirmware answered');
    await waitFirmwareStatus('Downloaded', from);
    t.same(files.requests.filter((r) => r.endsWith('/fw/0.3.0.update.tar')).length, 2, 'the first download failed (503) and was retried');
    // Staged and waiting for the car to go; a switch that did not wait would say Installing within a moment.
    await box.waitForLog((l) => l['msg'] === 'firmware update' && l['status'] === 'InstallScheduled', 20_000);
    await sleep(500);
    t.same(firmwareStatuses(from), ['Downloading', 'Downloaded'], 'no install while the car is connected');
    t.same(since(cs, from, 'StopTransaction'), [], 'the transaction goes on');

    const unplugged = cs.calls.length;
    await simPost('/sim/ev', { state: 'A' });
    const stop = await cs.waitForCall('StopTransaction', () => true, { from: unplugged });
    t.equal(stop.params['reason'], 'EVDisconnected');
    const installing = await waitFirmwareStatus('Installing', from);
    t.ok(installing.atMs >= stop.atMs, 'Installing only after the transaction ended');
    const boot = await bootOf('0.3.0', from);
    const installed = await waitFirmwareStatus('Installed', from);
    t.ok(installed.atMs > boot.atMs, 'Installed is reported by the new version after its BootNotification');
    t.same(firmwareStatuses(from), ['Downloading', 'Downloaded', 'Installing', 'Installed']);
    t.equal(await readlink(join(opt, 'current')), 'slots/b', 'current -> slots/b');
    t.equal(await readlink(join(opt, 'good')), 'slots/b', 'good -> slots/b once healthy');
    t.ok(box.logs.some((l) => l['msg'] === 'update committed: the new version is healthy' && l['version'] === '0.3.0'));
    t.comment(transcript(from, logsFrom));
  },
);

t.test('a corrupt image is refused before anything is unpacked: InstallationFailed, 0.3.0 keeps running', async (t) => {
  const from = cs.calls.length;
  const logsFrom = box.logs.length;
  const corrupt = Buffer.from(await readFile(v030.update));
  for (let i = 4096; i < 4196; i++) corrupt[i] = (corrupt[i] ?? 0) ^ 0xff; // inside image.tar.gz
  t.same(await updateFirmware('/fw/corrupt.update.tar', corrupt), {}, 'UpdateFirmware answered');
  await waitFirmwareStatus('InstallationFailed', from);
  t.same(firmwareStatuses(from), ['Downloading', 'Downloaded', 'InstallationFailed']);
  t.ok(
    box.logs.slice(logsFrom).some((l) => l['msg'] === 'firmware update' && /InvalidSignature|signature/.test(String(l['detail']))),
    'the log names the signature',
  );
  await sleep(500);
  t.same(since(cs, from, 'BootNotification'), [], 'no restart');
  t.equal(await readlink(join(opt, 'current')), 'slots/b');
  t.comment(transcript(from, logsFrom));
});

t.test('an older image (0.2.0, signed) is refused: InstallationFailed', async (t) => {
  const from = cs.calls.length;
  t.same(await updateFirmware('/fw/0.2.0.update.tar', await readFile(v020.update)), {}, 'UpdateFirmware answered');
  await waitFirmwareStatus('InstallationFailed', from);
  t.same(firmwareStatuses(from), ['Downloading', 'Downloaded', 'InstallationFailed']);
  t.equal(await readlink(join(opt, 'current')), 'slots/b');
});

t.test('an image that fails its health check is rolled back: 0.3.0 runs again and reports InstallationFailed', async (t) => {
  const from = cs.calls.length;
  const logsFrom = box.logs.length;
  t.same(await updateFirmware('/fw/0.4.0.update.tar', await readFile(brokenUpdate)), {}, 'UpdateFirmware answered');
  await waitFirmwareStatus('Installing', from);
  await box.waitForLog((l) => l['msg'] === 'broken firmware idling', 20_000);
  const rolledBack = await box.waitForLog(
    (l) => l['msg'] === 'update rolled back' && l['version'] === '0.4.0',
    (HEALTH_TIMEOUT_S + 10) * 1000,
  );
  t.match(rolledBack['reason'], /not healthy within/);
  const boot = await bootOf('0.3.0', from);
  const failed = await waitFirmwareStatus('InstallationFailed', from);
  t.ok(failed.atMs > boot.atMs, 'reported by the old version after its BootNotification');
  t.same(firmwareStatuses(from), ['Downloading', 'Downloaded', 'Installing', 'InstallationFailed']);
  t.same(
    since(cs, from, 'BootNotification').map((c) => c.params['firmwareVersion']),
    ['0.3.0'],
    'the broken version never booted its OCPP session',
  );
  t.equal(await readlink(join(opt, 'current')), 'slots/b', 'current back on slot b');
  t.equal(await readlink(join(opt, 'good')), 'slots/b');
  const starts = box.logs
    .slice(logsFrom)
    .filter((l) => l['msg'] === 'starting firmware')
    .map((l) => `${String(l['slot'])}${l['trial'] ? ` (trial ${String(l['trial'])})` : ''}`);
  t.same(starts, ['a (trial 0.4.0)', 'b']);
  t.comment(transcript(from, logsFrom));
});

t.test(
  'a download that keeps failing: retried, then DownloadFailed; TriggerMessage FirmwareStatusNotification then says Idle',
  async (t) => {
    const from = cs.calls.length;
    t.same(await updateFirmware('/fw/missing.update.tar', null), {}, 'UpdateFirmware answered');
    await waitFirmwareStatus('DownloadFailed', from);
    t.same(firmwareStatuses(from), ['Downloading', 'DownloadFailed']);
    t.equal(files.requests.filter((r) => r === 'GET /fw/missing.update.tar').length, 2, 'one try and one retry');
    const triggered = cs.calls.length;
    t.same(await cs.call('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' }), { status: 'Accepted' });
    t.equal((await waitFirmwareStatus('Idle', triggered)).params['status'], 'Idle');
  },
);

t.test('GetDiagnostics: the logs packed and uploaded by HTTP POST; Uploading, Uploaded; no secret in them', async (t) => {
  const from = cs.calls.length;
  const answer = await cs.call('GetDiagnostics', {
    location: files.base.replace('http://', 'http://diag:up%40load@') + '/upload',
    startTime: new Date(Date.now() - 3_600_000).toISOString(),
  });
  t.match(answer.fileName, /^diagnostics-box-fw-\d{8}T\d{6}Z\.tar\.gz$/);
  await cs.waitForCall('DiagnosticsStatusNotification', (p) => p['status'] === 'Uploaded', { from });
  t.same(
    since(cs, from, 'DiagnosticsStatusNotification').map((c) => c.params['status']),
    ['Uploading', 'Uploaded'],
  );
  const upload = files.uploads.find((u) => u.path === '/upload');
  t.ok(upload, 'one upload');
  t.equal(
    upload!.authorization,
    `Basic ${Buffer.from('diag:up@load').toString('base64')}`,
    'the credentials in the location became Basic auth',
  );
  const form = await new Response(upload!.body, { headers: { 'content-type': upload!.contentType } }).formData();
  const file = form.get('file') as File;
  t.equal(file.name, answer.fileName);
  const entries = await tarTexts(Buffer.from(await file.arrayBuffer()));
  t.same([...entries.keys()].sort(), ['firmware.log', 'info.json']);
  const log = entries.get('firmware.log') ?? '';
  t.match(log, /"msg":"firmware running".*"version":"0\.2\.0"/, 'lines of 0.2.0');
  t.match(log, /"msg":"firmware running".*"version":"0\.3\.0"/, 'lines of 0.3.0');
  t.match(log, /"msg":"firmware update","module":"update","status":"InstallationFailed"/, 'the failed updates');
  t.notMatch(log, PASSWORD, 'the OCPP password is not in the log');
  t.notMatch(box.logs.map((l) => JSON.stringify(l)).join('\n'), /up(@|%40)load/, 'nor the upload password');
  t.equal(JSON.parse(entries.get('info.json') ?? '{}').firmwareVersion, '0.3.0');
});

t.test('GetDiagnostics to a location that refuses: retried, then UploadFailed', async (t) => {
  const from = cs.calls.length;
  files.failNext('/refusing', 500, 2);
  await cs.call('GetDiagnostics', { location: `${files.base}/refusing`, retries: 1, retryInterval: 1 });
  await cs.waitForCall('DiagnosticsStatusNotification', (p) => p['status'] === 'UploadFailed', { from });
  t.same(
    since(cs, from, 'DiagnosticsStatusNotification').map((c) => c.params['status']),
    ['Uploading', 'UploadFailed'],
  );
  t.same(files.requests.filter((r) => r === 'POST /refusing').length, 2, 'one try and one retry');
});

/** The manufacturer's PKI for SignedUpdateFirmware: a root the box is given, and a firmware signer under it. */
async function manufacturer() {
  const root = await issueCertificate({ role: 'ca', commonName: 'Wallbox Maker Root', days: 30 });
  const signer = await issueCertificate({
    role: 'firmware-signer',
    commonName: 'Wallbox Maker Firmware',
    days: 30,
    issuer: { certPem: root.certPem, keyPem: root.keyPem! },
  });
  return {
    rootPem: root.certPem,
    signerPem: signer.certPem,
    sign: (data: Buffer) => sign('sha256', data, signer.keyPem!).toString('base64'),
  };
}

const signedStatuses = (from: number) =>
  since(cs, from, 'SignedFirmwareStatusNotification').map((c) => c.params as { status: string; requestId?: number });
const waitSignedStatus = (status: string, from: number, timeoutMs = 20_000) =>
  cs.waitForCall('SignedFirmwareStatusNotification', (p) => p['status'] === status, { from, timeoutMs });
const securityEvent = (type: string, from: number) =>
  cs.waitForCall('SecurityEventNotification', (p) => p['type'] === type, { from, timeoutMs: 20_000 });

t.test(
  'SignedUpdateFirmware: a signing certificate that does not chain to a ManufacturerRootCertificate, or a bad signature, is refused; a good one installs 0.5.0 with the request id throughout',
  async (t) => {
    const maker = await manufacturer();
    const stranger = await manufacturer();
    const data = await readFile(v050.update);
    files.serve('/fw/0.5.0.update.tar', data);
    const request = (requestId: number, signerPem: string, signature: string) =>
      cs.call('SignedUpdateFirmware', {
        requestId,
        retries: 1,
        retryInterval: 1,
        firmware: {
          location: `${files.base}/fw/0.5.0.update.tar`,
          retrieveDateTime: new Date().toISOString(),
          signingCertificate: signerPem,
          signature,
        },
      });

    let from = cs.calls.length;
    t.same(await request(1, maker.signerPem, maker.sign(data)), { status: 'InvalidCertificate' }, 'no manufacturer root installed yet');
    await securityEvent('InvalidFirmwareSigningCertificate', from);
    t.same(await cs.call('InstallCertificate', { certificateType: 'ManufacturerRootCertificate', certificate: maker.rootPem }), {
      status: 'Accepted',
    });
    t.same(await request(2, stranger.signerPem, stranger.sign(data)), { status: 'InvalidCertificate' }, 'another maker');

    from = cs.calls.length;
    t.same(await request(3, maker.signerPem, maker.sign(Buffer.from('something else'))), { status: 'Accepted' });
    await waitSignedStatus('InvalidSignature', from);
    t.same(signedStatuses(from), [
      { status: 'Downloading', requestId: 3 },
      { status: 'Downloaded', requestId: 3 },
      { status: 'InvalidSignature', requestId: 3 },
    ]);
    await securityEvent('InvalidFirmwareSignature', from);
    t.equal(await readlink(join(opt, 'current')), 'slots/b', 'nothing switched');

    from = cs.calls.length;
    const logsFrom = box.logs.length;
    t.same(await request(4, maker.signerPem, maker.sign(data)), { status: 'Accepted' });
    await bootOf('0.5.0', from, 30_000);
    await waitSignedStatus('Installed', from, 30_000);
    t.same(
      signedStatuses(from),
      ['Downloading', 'Downloaded', 'SignatureVerified', 'Installing', 'Installed'].map((status) => ({ status, requestId: 4 })),
      'every status with the request id, Installed from the new version',
    );
    await securityEvent('FirmwareUpdated', from);
    t.equal(await readlink(join(opt, 'good')), 'slots/a', 'good -> the new slot');
    t.same(await cs.call('ExtendedTriggerMessage', { requestedMessage: 'FirmwareStatusNotification' }), { status: 'Accepted' });
    t.equal((await waitSignedStatus('Idle', from)).params['requestId'], undefined, 'triggered: Idle, no request');
    t.comment(transcript(from, logsFrom));
  },
);

t.test('GetLog SecurityLog: only the security events, uploaded by HTTP; LogStatusNotification with the request id', async (t) => {
  const from = cs.calls.length;
  const answer = await cs.call('GetLog', {
    logType: 'SecurityLog',
    requestId: 77,
    retries: 0,
    log: { remoteLocation: `${files.base}/security-upload` },
  });
  t.equal(answer.status, 'Accepted');
  t.match(answer.filename, /^security-log-box-fw-\d{8}T\d{6}Z\.tar\.gz$/);
  await cs.waitForCall('LogStatusNotification', (p) => p['status'] === 'Uploaded', { from });
  t.same(
    since(cs, from, 'LogStatusNotification').map((c) => c.params),
    [
      { status: 'Uploading', requestId: 77 },
      { status: 'Uploaded', requestId: 77 },
    ],
  );
  const upload = files.uploads.find((u) => u.path === '/security-upload');
  const form = await new Response(upload!.body, { headers: { 'content-type': upload!.contentType } }).formData();
  const entries = await tarTexts(Buffer.from(await (form.get('file') as File).arrayBuffer()));
  t.same([...entries.keys()].sort(), ['firmware.log', 'info.json'], 'no fault history in the security log');
  const lines = (entries.get('firmware.log') ?? '')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  t.ok(lines.length >= 3, `${lines.length} security events`);
  t.ok(
    lines.every((l) => typeof l['securityEvent'] === 'string'),
    'nothing but security events',
  );
  t.ok(lines.some((l) => l['securityEvent'] === 'InvalidFirmwareSignature'));
  t.ok(lines.some((l) => l['securityEvent'] === 'StartupOfTheDevice'));
  const triggered = cs.calls.length;
  t.same(await cs.call('ExtendedTriggerMessage', { requestedMessage: 'LogStatusNotification' }), { status: 'Accepted' });
  t.same((await cs.waitForCall('LogStatusNotification', () => true, { from: triggered })).params, { status: 'Idle' });
});

t.test('SIGTERM to the launcher stops the firmware cleanly: exit 0', async (t) => {
  t.equal(await box.stop(), 0);
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { systemClock } from '../../hal/clock.js';
import { silentLogger } from '../../firmware/log.js';
import { FirmwareUpdater, type FirmwareUpdateStatus } from '../../firmware/update/updater.js';
import { startFileServer, type FileServer } from '../helpers/firmware-image.js';
import { sleep } from '../helpers/ocpp-scenario.js';

/**
 * The updater's scheduling without a launcher (as under `npm start`): the retrieve date, a request
 * replacing a scheduled one, and an image that cannot be installed because the firmware does not
 * run from an install folder. Real HTTP, the system clock.
 */

let files: FileServer;
t.before(async () => {
  files = await startFileServer();
  files.serve('/not-an-image', Buffer.from('hello'));
});
t.teardown(() => files.close());

function updater(dir: string): FirmwareUpdater {
  return new FirmwareUpdater({
    installDir: null,
    workDir: join(dir, 'update'),
    publicKeyPem: null,
    runningVersion: '1.0.0',
    clock: systemClock,
    log: silentLogger,
    idle: () => true,
    restart: () => t.fail('no restart without an install folder'),
  });
}

function recorder(): { statuses: string[]; report: (status: FirmwareUpdateStatus, detail?: string) => Promise<void>; done: Promise<void> } {
  const statuses: string[] = [];
  let finished = (): void => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  return {
    statuses,
    done,
    report: async (status, detail) => {
      statuses.push(detail === undefined ? status : `${status}: ${detail}`);
      if (['DownloadFailed', 'InvalidSignature', 'InstallationFailed', 'Installed'].includes(status)) finished();
    },
  };
}

t.test('the download waits for the retrieve date', async (t) => {
  const u = updater(t.testdir());
  const r = recorder();
  const requestsBefore = files.requests.length;
  u.update(
    { location: `${files.base}/not-an-image`, retrieveAtMs: Date.now() + 1200, retries: 0, retryIntervalS: 0, origin: 'test' },
    r.report,
  );
  t.equal(u.status, 'DownloadScheduled');
  await sleep(900);
  t.same(r.statuses, [], 'nothing before the retrieve date');
  t.equal(files.requests.length, requestsBefore, 'no request yet');
  await r.done;
  t.same(
    r.statuses.map((s) => s.split(':')[0]),
    ['Downloading', 'Downloaded', 'InvalidSignature'],
  );
  t.match(r.statuses[2], /no update key/, 'without a key every image is refused');
  t.equal(u.status, 'Idle');
});

t.test('a new request replaces one still scheduled; the first one never downloads', async (t) => {
  const u = updater(t.testdir());
  const first = recorder();
  const second = recorder();
  const from = files.requests.length;
  files.serve('/first', Buffer.from('first'));
  u.update(
    { location: `${files.base}/first`, retrieveAtMs: Date.now() + 500, retries: 0, retryIntervalS: 0, origin: 'test' },
    first.report,
  );
  u.update(
    { location: `${files.base}/not-an-image`, retrieveAtMs: Date.now(), retries: 0, retryIntervalS: 0, origin: 'test' },
    second.report,
  );
  await second.done;
  await sleep(700);
  t.same(first.statuses, []);
  t.same(files.requests.slice(from), ['GET /not-an-image']);
});

t.test('a verified image cannot be installed without an install folder: InstallationFailed, the download removed', async (t) => {
  const dir = t.testdir();
  const u = updater(dir);
  const r = recorder();
  // A verifier standing in for the signed variant's: it accepts the file as version 2.0.0.
  u.update(
    {
      location: `${files.base}/not-an-image`,
      retrieveAtMs: 0,
      retries: 0,
      retryIntervalS: 0,
      origin: 'test',
      verify: async (file) => ({
        image: await readFile(file),
        manifest: { name: 'wallbox-firmware', version: '2.0.0', arch: process.arch, platform: process.platform, builtAt: '' },
      }),
    },
    r.report,
  );
  await r.done;
  t.same(r.statuses, [
    'Downloading',
    'Downloaded',
    'SignatureVerified: 2.0.0',
    'InstallationFailed: the firmware does not run from an installed image',
  ]);
  await t.rejects(readFile(join(dir, 'update', 'firmware-1.download')), { code: 'ENOENT' });
});

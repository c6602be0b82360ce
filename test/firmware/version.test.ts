import { readFile } from 'node:fs/promises';
import t from 'tap';
import { compareVersions, FIRMWARE_VERSION } from '../../firmware/version.js';

t.test("the firmware's default version is package.json's", async (t) => {
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  t.equal(FIRMWARE_VERSION, version);
});

t.test('versions compare by number, part by part', async (t) => {
  t.ok(compareVersions('0.10.0', '0.9.9') > 0);
  t.ok(compareVersions('1.0.0', '0.99.99') > 0);
  t.equal(compareVersions('1.2.3', '1.2.3'), 0);
  t.ok(compareVersions('1.2.3', '1.2.10') < 0);
  t.ok(compareVersions('garbage', '0.0.0') < 0, 'what is not a version is older than any version');
});

import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { IMAGE_TOOL, KEYGEN_TOOL, makeSigningKey } from '../helpers/firmware-image.js';

/** The tools around the image: keygen's files, and what the image tool refuses. */

const run = promisify(execFile);
const fails = (args: string[]) =>
  run(process.execPath, args).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => err,
  );

t.test('keygen: a private key only its owner reads and a public key; never overwrites', async (t) => {
  const dir = t.testdir();
  const key = await makeSigningKey(dir);
  t.equal((await stat(key)).mode & 0o777, 0o600);
  t.match(await readFile(key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
  t.match(await readFile(join(dir, 'update-signing.pub.pem'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
  const before = await readFile(key, 'utf8');
  const again = await fails([KEYGEN_TOOL, '--out', dir]);
  t.equal(again.code, 1);
  t.match(again.stderr, /exists; not overwritten/);
  t.equal(await readFile(key, 'utf8'), before, 'the key is unchanged');
});

t.test('image: without a key, or with a version that is not major.minor.patch, exit 2 and the reason', async (t) => {
  const noKey = await fails([IMAGE_TOOL, '--out', t.testdir()]);
  t.equal(noKey.code, 2);
  t.match(noKey.stderr, /--key PRIVATE_KEY.*npm run keygen/);
  const badVersion = await fails([IMAGE_TOOL, '--key', '/nonexistent', '--version', '1.2', '--out', t.testdir()]);
  t.equal(badVersion.code, 2);
  t.match(badVersion.stderr, /major\.minor\.patch/);
});

t.test('image: addons built for another CPU than --arch are refused, naming them', async (t) => {
  const dir = t.testdir();
  const key = await makeSigningKey(dir);
  const other = process.arch === 'arm64' ? 'x64' : 'arm64';
  const result = await fails([IMAGE_TOOL, '--key', key, '--arch', other, '--out', join(dir, 'out')]);
  t.equal(result.code, 1);
  t.match(result.stderr, new RegExp(`not built for ${other}.*epoll/build/Release/epoll\\.node`));
  t.notMatch(result.stderr, /bindings-cpp/, "serialport's prebuild for the other CPU is taken");
});

import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { create } from 'tar';
import { openSignedImage, type ImageManifest } from '../../firmware/update/signed-image.js';
import { packImage, publicKeyOf } from '../../tools/image-pack.js';

/** The signed image format: what is accepted and what is refused, and why. */

const key = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const signingKey = key();
const publicKey = publicKeyOf(signingKey);

async function image(t: Test, manifest: Partial<ImageManifest> = {}, privateKey = signingKey): Promise<string> {
  const version = manifest.version ?? '1.2.3';
  const dir = t.testdir({
    [`wallbox-firmware-${version}`]: {
      'manifest.json': JSON.stringify({
        name: 'wallbox-firmware',
        version,
        arch: process.arch,
        platform: process.platform,
        builtAt: new Date().toISOString(),
        ...manifest,
      }),
      'firmware.mjs': '// firmware',
      'launcher.mjs': '// launcher',
    },
  });
  return (await packImage(join(dir, `wallbox-firmware-${version}`), join(dir, 'out'), privateKey)).updateFile;
}

t.test('a newer image signed with the key opens, with its manifest', async (t) => {
  const opened = await openSignedImage(await image(t), publicKey, '1.2.2');
  t.equal(opened.manifest.version, '1.2.3');
  t.ok(opened.image.length > 0);
});

t.test('refused: older, the same version, another key, tampered bytes, no signature, not a tar, another CPU, a bad manifest', async (t) => {
  await t.rejects(openSignedImage(await image(t), publicKey, '1.2.3'), { message: /^NotNewer: / }, 'the same version');
  await t.rejects(
    openSignedImage(await image(t), publicKey, '1.10.0'),
    { message: /^NotNewer: / },
    'older (1.2.3 < 1.10.0: numeric, not text order)',
  );
  await t.rejects(
    openSignedImage(await image(t, {}, key()), publicKey, '1.0.0'),
    { message: /^InvalidSignature: / },
    'signed with another key',
  );

  const tampered = await image(t);
  const bytes = await readFile(tampered);
  bytes[520] = (bytes[520] ?? 0) ^ 0x01; // inside image.tar.gz, the outer tar's first entry
  await writeFile(tampered, bytes);
  await t.rejects(openSignedImage(tampered, publicKey, '1.0.0'), { message: /^InvalidSignature: / }, 'one bit flipped in the image');

  const dir = t.testdir({ 'image.tar.gz': 'not really', 'plain.bin': 'garbage' });
  await create({ file: join(dir, 'unsigned.tar'), cwd: dir }, ['image.tar.gz']);
  await t.rejects(
    openSignedImage(join(dir, 'unsigned.tar'), publicKey, '1.0.0'),
    { message: /^InvalidSignature: .*not signed/ },
    'no signature',
  );
  await t.rejects(openSignedImage(join(dir, 'plain.bin'), publicKey, '1.0.0'), { message: /^Malformed: / }, 'not a tar');

  await t.rejects(
    openSignedImage(await image(t, { arch: process.arch === 'arm64' ? 'x64' : 'arm64' }), publicKey, '1.0.0'),
    { message: /^Malformed: .*built for/ },
    'another CPU',
  );
  await t.rejects(
    openSignedImage(await image(t, { version: 'latest' }), publicKey, '1.0.0'),
    { message: /^Malformed: .*manifest/ },
    'a version that is not major.minor.patch',
  );
});

import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * `npm run keygen -- --out DIR`: a new Ed25519 key pair for signing firmware images,
 * `DIR/update-signing.key` (private, mode 600: keep it off the repository and off the boxes) and
 * `DIR/update-signing.pub.pem`. Refuses to overwrite a key.
 */
const { values } = parseArgs({ options: { out: { type: 'string' } }, strict: true });
if (values.out === undefined) {
  process.stderr.write('usage: keygen --out DIR\n');
  process.exit(2);
}
const privatePath = `${values.out}/update-signing.key`;
const publicPath = `${values.out}/update-signing.pub.pem`;
if (existsSync(privatePath)) {
  process.stderr.write(`keygen: ${privatePath} exists; not overwritten\n`);
  process.exit(1);
}
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }));
process.stdout.write(JSON.stringify({ privateKey: privatePath, publicKey: publicPath }) + '\n');

import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { MANIFEST_FILE, PUBLIC_KEY_FILE, type ImageManifest } from '../firmware/update/signed-image.js';
import { packImage, publicKeyOf } from './image-pack.js';

/**
 * `npm run image -- --key PRIVATE_KEY [--version V] [--out DIR] [--arch A --node-modules DIR]`:
 * the versioned, signed firmware image. The folder `wallbox-firmware-<v>/` holds the bundle and
 * the launcher built for version V, the native addons the bundle loads (from `--node-modules`,
 * built for the CPU `--arch`, this machine's by default), the board files, a default config, the
 * systemd unit, the udev rules, install.sh, the public update key and manifest.json. See the
 * README, "Firmware image".
 */

const ROOT = new URL('../..', import.meta.url).pathname;
/** The bundle's external packages (build.mjs NATIVE); their dependencies come along. */
const NATIVE_ROOTS = ['serialport', 'onoff', 'epoll', 'i2c-bus'];
/** Headers needed only to compile addons. */
const BUILD_ONLY = new Set(['nan', 'node-addon-api']);
const STATIC_FILES = ['install.sh', 'wallbox.service', '99-wallbox.rules', 'config.json'];

const { values } = parseArgs({
  options: {
    key: { type: 'string' },
    version: { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'dist/image') },
    'node-modules': { type: 'string', default: join(ROOT, 'node_modules') },
    arch: { type: 'string', default: process.arch },
  },
  strict: true,
});
const keyPath = values.key ?? process.env['WALLBOX_SIGNING_KEY'];
if (keyPath === undefined) {
  process.stderr.write(
    'image: --key PRIVATE_KEY (or WALLBOX_SIGNING_KEY) is required; make a key pair with `npm run keygen -- --out DIR`\n',
  );
  process.exit(2);
}
const packageJson = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const version = values.version ?? packageJson.version;
if (!/^\d+\.\d+\.\d+$/.test(version)) {
  process.stderr.write(`image: --version must be major.minor.patch, not ${version}\n`);
  process.exit(2);
}
const nodeModules = values['node-modules'];
const arch = values.arch;
/** ELF e_machine of each CPU Node runs on here: an addon built for another one is refused. */
const ELF_MACHINE: Readonly<Record<string, number>> = { x64: 0x3e, arm64: 0xb7, arm: 0x28, ia32: 0x03, riscv64: 0xf3 };
if (ELF_MACHINE[arch] === undefined) {
  process.stderr.write(`image: --arch must be one of ${Object.keys(ELF_MACHINE).join(', ')}\n`);
  process.exit(2);
}

/** The .node files under `dir` whose ELF machine is not `arch`'s. */
async function foreignAddons(dir: string): Promise<string[]> {
  const foreign: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.node')) continue;
    const path = join(entry.parentPath, entry.name);
    const header = await readFile(path);
    if (header.readUInt16LE(18) !== ELF_MACHINE[arch]) foreign.push(path.slice(dir.length + 1));
  }
  return foreign;
}

/** The packages `roots` need at run time, by folder name, from a hoisted node_modules. */
async function runtimeClosure(roots: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  const visit = async (name: string): Promise<void> => {
    if (found.has(name) || BUILD_ONLY.has(name)) return;
    const manifest = JSON.parse(await readFile(join(nodeModules, name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    found.add(name);
    for (const dep of Object.keys(manifest.dependencies ?? {})) await visit(dep);
  };
  for (const root of roots) await visit(root);
  return found;
}

/** Keeps what an addon loads at run time: of build/ only Release/*.node, no prebuilds for other platforms and CPUs. */
function runtimeFile(source: string): boolean {
  const relative = source.slice(nodeModules.length);
  const build = /^\/(?:@[^/]+\/)?[^/]+\/build(\/.*)?$/.exec(relative);
  if (build !== null) {
    const rest = build[1] ?? '';
    return rest === '' || rest === '/Release' || /^\/Release\/[^/]+\.node$/.test(rest);
  }
  const prebuild = /\/prebuilds\/([^/]+)/.exec(relative);
  return prebuild === null || prebuild[1] === `linux-${arch}`;
}

const staging = await mkdtemp(join(tmpdir(), 'wallbox-image-'));
try {
  const folder = join(staging, `wallbox-firmware-${version}`);
  await mkdir(folder, { recursive: true });
  await promisify(execFile)(process.execPath, ['build.mjs', '--outdir', folder, '--version', version], { cwd: ROOT });
  for (const name of await runtimeClosure(NATIVE_ROOTS))
    await cp(join(nodeModules, name), join(folder, 'node_modules', name), { recursive: true, filter: runtimeFile });
  const foreign = await foreignAddons(join(folder, 'node_modules'));
  if (foreign.length > 0)
    throw new Error(`native addons not built for ${arch} (give --node-modules with addons built for it): ${foreign.join(', ')}`);
  await mkdir(join(folder, 'board'));
  for (const file of (await readdir(join(ROOT, 'board'))).filter((f) => f.endsWith('.json')))
    await cp(join(ROOT, 'board', file), join(folder, 'board', file));
  for (const file of STATIC_FILES) await cp(join(ROOT, 'image', file), join(folder, file));
  await writeFile(join(folder, PUBLIC_KEY_FILE), publicKeyOf(await readFile(keyPath, 'utf8')));
  const manifest: ImageManifest = { name: 'wallbox-firmware', version, arch, platform: 'linux', builtAt: new Date().toISOString() };
  await writeFile(join(folder, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  const packed = await packImage(folder, values.out, await readFile(keyPath, 'utf8'));
  const bytes = (await stat(packed.updateFile)).size;
  process.stdout.write(
    JSON.stringify({
      version,
      arch: manifest.arch,
      image: packed.imageFile,
      signature: packed.signatureFile,
      update: packed.updateFile,
      bytes,
    }) + '\n',
  );
} catch (err) {
  process.stderr.write(`image: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await rm(staging, { recursive: true, force: true });
}

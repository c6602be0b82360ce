import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MANIFEST_FILE } from '../../firmware/update/signed-image.js';
import { packImage } from '../../tools/image-pack.js';
import { startLoggedProcess, type FirmwareProcess } from './firmware-process.js';

const run = promisify(execFile);
export const IMAGE_TOOL = new URL('../../dist/tools/image.mjs', import.meta.url).pathname;
export const KEYGEN_TOOL = new URL('../../dist/tools/keygen.mjs', import.meta.url).pathname;

export interface BuiltImage {
  readonly version: string;
  readonly image: string;
  readonly signature: string;
  readonly update: string;
  readonly bytes: number;
}

/** A fresh signing key pair in `dir`, made by the keygen tool (tests never use a key from the repository); the private key's path. */
export async function makeSigningKey(dir: string): Promise<string> {
  const { stdout } = await run(process.execPath, [KEYGEN_TOOL, '--out', dir]);
  return (JSON.parse(stdout) as { privateKey: string }).privateKey;
}

/** `npm run image` as a user runs it: the built tool, with the version given. */
export async function buildImage(outDir: string, keyPath: string, version: string): Promise<BuiltImage> {
  const { stdout } = await run(process.execPath, [IMAGE_TOOL, '--key', keyPath, '--version', version, '--out', outDir], {
    timeout: 60_000,
  });
  return JSON.parse(stdout) as BuiltImage;
}

/**
 * `from` as another `version` without another build (a build is most of an image's cost): unpacked,
 * the version put in place of `from`'s in the bundle (the one string literal build.mjs defines for
 * it) and in the manifest, the folder renamed, `change` applied to it, then packed and signed into
 * `outDir` as the image tool does (packImage). The firmware then reports `version` as a built one.
 */
export async function rebrandImage(
  from: BuiltImage,
  keyPath: string,
  outDir: string,
  version: string,
  change: (folder: string) => Promise<void> = async () => {},
): Promise<BuiltImage> {
  const unpack = await mkdtemp(join(outDir, 'rebrand-'));
  try {
    await run('tar', ['-xzf', from.image, '-C', unpack]);
    const folder = join(unpack, `wallbox-firmware-${version}`);
    await rename(join(unpack, `wallbox-firmware-${from.version}`), folder);
    const literal = JSON.stringify(from.version);
    let replaced = 0;
    for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      if (!entry.isFile() || !entry.name.endsWith('.mjs') || path.includes('/node_modules/')) continue;
      const code = await readFile(path, 'utf8');
      const parts = code.split(literal);
      if (parts.length === 1) continue;
      replaced += parts.length - 1;
      await writeFile(path, parts.join(JSON.stringify(version)));
    }
    if (replaced !== 1)
      throw new Error(`the bundle of ${from.version} holds ${literal} ${replaced} times, not once: its version cannot be changed`);
    const manifestFile = join(folder, MANIFEST_FILE);
    await writeFile(manifestFile, JSON.stringify({ ...JSON.parse(await readFile(manifestFile, 'utf8')), version }, null, 2) + '\n');
    await change(folder);
    const packed = await packImage(folder, outDir, await readFile(keyPath, 'utf8'));
    return {
      version,
      image: packed.imageFile,
      signature: packed.signatureFile,
      update: packed.updateFile,
      bytes: (await stat(packed.updateFile)).size,
    };
  } finally {
    await rm(unpack, { recursive: true, force: true });
  }
}

/** Unpacks an image with the system's tar (as on the SoM) and runs its install.sh into `root`. */
export async function installImage(image: string, root: string): Promise<string> {
  const unpack = await mkdtemp(join(root, '..', 'unpack-'));
  try {
    await run('tar', ['-xzf', image, '-C', unpack]);
    const [folder] = (await run('ls', [unpack])).stdout.trim().split('\n');
    const { stdout } = await run('sh', [join(unpack, folder ?? '', 'install.sh'), root]);
    return stdout;
  } finally {
    await rm(unpack, { recursive: true, force: true });
  }
}

/** What systemd does on the SoM, in the test's root: the unit's ExecStart with the paths under `root`. */
export async function startInstalled(root: string, healthTimeoutS: number): Promise<FirmwareProcess> {
  const unit = await readFile(join(root, 'etc/systemd/system/wallbox.service'), 'utf8');
  const execStart = /^ExecStart=(\S+) (.*)$/m.exec(unit);
  if (execStart === null) throw new Error('no ExecStart in the unit');
  const args = (execStart[2] ?? '')
    .split(/\s+/)
    .map((arg) => (arg.startsWith('/') ? join(root, arg) : arg))
    .map((arg, i, all) => (all[i - 1] === '--health-timeout-s' ? String(healthTimeoutS) : arg));
  const nodeFlags = args.filter((arg, i) => arg.startsWith('--') && args.slice(0, i).every((a) => a.startsWith('--')));
  const [script, ...rest] = args.slice(nodeFlags.length);
  return startLoggedProcess(script ?? '', rest, root, {}, nodeFlags);
}

/** A file server for update images and an upload endpoint (POST bodies are kept). */
export interface FileServer {
  readonly base: string;
  readonly requests: string[];
  /** Answers the next requests of `path` with `status` (e.g. a 503 to make a download retry). */
  failNext(path: string, status: number, times: number): void;
  /** Serves `data` at `path`. */
  serve(path: string, data: Buffer): void;
  /** Bodies received by POST, with their content type. */
  readonly uploads: Array<{ path: string; contentType: string; authorization: string | undefined; body: Buffer }>;
  close(): Promise<void>;
}

export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, Buffer>();
  const failures = new Map<string, { status: number; times: number }>();
  const requests: string[] = [];
  const uploads: FileServer['uploads'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    requests.push(`${req.method ?? 'GET'} ${path}`);
    const failure = failures.get(path);
    if (failure !== undefined && failure.times > 0) {
      failure.times--;
      res.writeHead(failure.status).end();
      req.resume();
      return;
    }
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        uploads.push({
          path,
          contentType: req.headers['content-type'] ?? '',
          authorization: req.headers.authorization,
          body: Buffer.concat(chunks),
        });
        res.writeHead(201).end();
      });
      return;
    }
    const data = files.get(path);
    if (data === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length }).end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    uploads,
    failNext: (path, status, times) => void failures.set(path, { status, times }),
    serve: (path, data) => void files.set(path, data),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

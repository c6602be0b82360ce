import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ReadEntry } from 'tar';
import { compareVersions, isVersion } from '../version.js';

/**
 * The signed firmware image, one file (what `npm run image` writes as
 * `wallbox-firmware-<version>.update.tar` and what UpdateFirmware downloads): a plain tar holding
 * `image.tar.gz` (the image: one folder `wallbox-firmware-<version>/` with `manifest.json`, the
 * bundle, the native addons, the install script…) and `image.tar.gz.sig`, the Ed25519 signature of
 * those bytes. The signature is checked before anything is unpacked; the version is read from the
 * verified bytes. Debian's tar unpacks both layers.
 */

export const IMAGE_ENTRY = 'image.tar.gz';
export const SIGNATURE_ENTRY = 'image.tar.gz.sig';
/** Inside the image, beside the bundle: the public key updates are checked against. */
export const PUBLIC_KEY_FILE = 'update-key.pem';
export const MANIFEST_FILE = 'manifest.json';

export interface ImageManifest {
  readonly name: 'wallbox-firmware';
  readonly version: string;
  /** CPU architecture and platform the native addons were built for (`process.arch`, `process.platform`). */
  readonly arch: string;
  readonly platform: string;
  readonly builtAt: string;
}

/** Why an image was refused. */
export type ImageRejection = 'Malformed' | 'InvalidSignature' | 'NotNewer';

export class ImageRejected extends Error {
  constructor(
    readonly reason: ImageRejection,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
    this.name = 'ImageRejected';
  }
}

/** Files larger than this are not an image of ours (keeps a hostile download from filling memory). */
const MAX_ENTRY_BYTES = 256 * 1024 * 1024;

/** The regular files of a tar (gzipped or not) in memory, by path; `wanted` picks which to keep. */
export async function tarEntries(data: Buffer, wanted: (path: string) => boolean): Promise<Map<string, Buffer>> {
  // tar is loaded by the first update or image read, not at every start (issue #21).
  const { Parser } = await import('tar');
  const files = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (entry.type !== 'File' || !wanted(entry.path)) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        entry.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ENTRY_BYTES) parser.abort(new Error(`${entry.path} is too large`));
          else chunks.push(chunk);
        });
        entry.on('end', () => files.set(entry.path, Buffer.concat(chunks)));
      },
    });
    parser.on('end', () => resolve());
    parser.on('abort', (err: Error) => reject(err));
    parser.on('error', (err: Error) => reject(err));
    parser.end(data);
  });
  return files;
}

/** Ed25519 signature of the image bytes (node:crypto: Ed25519 takes no digest name). */
export function signImage(image: Buffer, privateKeyPem: string): Buffer {
  return sign(null, image, createPrivateKey(privateKeyPem));
}

function signatureMatches(image: Buffer, signature: Buffer, publicKeyPem: string): boolean {
  try {
    return verify(null, image, createPublicKey(publicKeyPem), signature);
  } catch {
    return false; // a signature of the wrong length or kind
  }
}

function isManifest(value: unknown): value is ImageManifest {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  return (
    m['name'] === 'wallbox-firmware' &&
    typeof m['version'] === 'string' &&
    isVersion(m['version']) &&
    typeof m['arch'] === 'string' &&
    typeof m['platform'] === 'string'
  );
}

/** The manifest of an image (`image.tar.gz`), found as `<folder>/manifest.json`. */
export async function readManifest(image: Buffer): Promise<ImageManifest> {
  const files = await tarEntries(image, (path) => path.split('/').filter(Boolean).length === 2 && path.endsWith(`/${MANIFEST_FILE}`));
  const [text] = [...files.values()];
  if (text === undefined) throw new ImageRejected('Malformed', `no ${MANIFEST_FILE} in the image`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(text.toString('utf8'));
  } catch {
    throw new ImageRejected('Malformed', `${MANIFEST_FILE} is not JSON`);
  }
  if (!isManifest(manifest)) throw new ImageRejected('Malformed', `${MANIFEST_FILE} lacks name, version, arch or platform`);
  return manifest;
}

export interface VerifiedImage {
  /** The verified `image.tar.gz` bytes. */
  readonly image: Buffer;
  readonly manifest: ImageManifest;
}

/**
 * Opens a signed image file: the signature must verify against `publicKeyPem`, the image must be
 * for this platform and CPU and newer than `runningVersion`. Throws ImageRejected otherwise.
 */
export async function openSignedImage(path: string, publicKeyPem: string, runningVersion: string): Promise<VerifiedImage> {
  let entries: Map<string, Buffer>;
  try {
    entries = await tarEntries(await readFile(path), (p) => p === IMAGE_ENTRY || p === SIGNATURE_ENTRY);
  } catch (err) {
    throw new ImageRejected('Malformed', `not a signed image: ${(err as Error).message}`);
  }
  const image = entries.get(IMAGE_ENTRY);
  const signature = entries.get(SIGNATURE_ENTRY);
  if (image === undefined) throw new ImageRejected('Malformed', `no ${IMAGE_ENTRY}`);
  if (signature === undefined) throw new ImageRejected('InvalidSignature', 'the image is not signed');
  if (!signatureMatches(image, signature, publicKeyPem))
    throw new ImageRejected('InvalidSignature', 'the signature does not match the image and the key');
  let manifest: ImageManifest;
  try {
    manifest = await readManifest(image);
  } catch (err) {
    throw err instanceof ImageRejected ? err : new ImageRejected('Malformed', (err as Error).message);
  }
  if (manifest.platform !== process.platform || manifest.arch !== process.arch)
    throw new ImageRejected('Malformed', `built for ${manifest.platform}-${manifest.arch}, this is ${process.platform}-${process.arch}`);
  if (compareVersions(manifest.version, runningVersion) <= 0)
    throw new ImageRejected('NotNewer', `version ${manifest.version} is not newer than the running ${runningVersion}`);
  return { image, manifest };
}

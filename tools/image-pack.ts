import { createPublicKey } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { create } from 'tar';
import { IMAGE_ENTRY, MANIFEST_FILE, SIGNATURE_ENTRY, signImage, type ImageManifest } from '../firmware/update/signed-image.js';

export interface PackedImage {
  /** `wallbox-firmware-<v>.tar.gz`: the image (what install.sh installs). */
  readonly imageFile: string;
  /** `wallbox-firmware-<v>.tar.gz.sig`: its Ed25519 signature. */
  readonly signatureFile: string;
  /** `wallbox-firmware-<v>.update.tar`: both in one file, what UpdateFirmware downloads. */
  readonly updateFile: string;
  readonly manifest: ImageManifest;
}

/** The public half of a private key, as PEM (what ships in the image). */
export function publicKeyOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Packs an image folder (`…/wallbox-firmware-<version>/` with its manifest.json) into the image,
 * signs it with `privateKeyPem` and writes the three files into `outDir`. Tests use it to sign
 * images they altered.
 */
export async function packImage(folder: string, outDir: string, privateKeyPem: string): Promise<PackedImage> {
  const manifest = JSON.parse(await readFile(join(folder, MANIFEST_FILE), 'utf8')) as ImageManifest;
  const name = basename(folder);
  await mkdir(outDir, { recursive: true });
  const imageFile = join(outDir, `${name}.tar.gz`);
  await create({ gzip: { level: 9 }, file: imageFile, cwd: dirname(folder), portable: true }, [name]);
  const image = await readFile(imageFile);
  const signatureFile = `${imageFile}.sig`;
  await writeFile(signatureFile, signImage(image, privateKeyPem));
  const updateFile = join(outDir, `${name}.update.tar`);
  // The envelope's entries have fixed names; stage them under those names.
  const envelopeDir = join(outDir, `.${name}.envelope`);
  await mkdir(envelopeDir, { recursive: true });
  await writeFile(join(envelopeDir, IMAGE_ENTRY), image);
  await writeFile(join(envelopeDir, SIGNATURE_ENTRY), await readFile(signatureFile));
  await create({ file: updateFile, cwd: envelopeDir, portable: true }, [IMAGE_ENTRY, SIGNATURE_ENTRY]);
  await rm(envelopeDir, { recursive: true, force: true });
  return { imageFile, signatureFile, updateFile, manifest };
}

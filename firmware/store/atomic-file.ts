import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { seal, unseal } from './checksum.js';

/**
 * Writes `data` so that a crash or power loss leaves either the old or the new file, never a torn
 * one: temp file in the same folder, fsync, the current file kept as `<path>.prev` (the previous
 * generation), rename over the target, fsync the folder. A crash between the two renames leaves
 * no `<path>` but its `.prev`, which `readStore` then reads. A state file's JSON object gets its
 * checksum member (`checksum.ts`, checked by `readStore`); `raw` files (PEM, the journal's own
 * checksummed lines) are written as given.
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  options: { readonly replaceDamaged?: boolean; readonly raw?: boolean } = {},
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // The folder is made only when it is missing: a state file is rewritten far more often than
  // its folder is new (the open-transaction marker every 10 Wh), and each call is a file-system
  // round trip.
  const file = await open(temp, 'w', 0o600).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    return open(temp, 'w', 0o600);
  });
  try {
    await file.writeFile(options.raw === true ? data : seal(data));
    await file.sync();
  } finally {
    await file.close();
  }
  // A damaged file (even a directory in its place) goes aside only once its replacement is on
  // disk: a full disk must not leave the box with neither.
  await rename(path, options.replaceDamaged === true ? `${path}.corrupt` : `${path}.prev`).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(temp, path);
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/** Removes a state file with its previous generation (which would otherwise be read in its place). */
export async function removeStore(path: string): Promise<void> {
  await rm(path, { force: true, recursive: true });
  await rm(`${path}.prev`, { force: true, recursive: true });
}

/** Temp files of writes a crash cut short (the target kept its last good version); removed at boot. */
export async function removeTornWrites(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const torn = names.filter((name) => /^\.\d+\.[0-9a-f]{8}\.tmp$/.test(name) && !name.startsWith(`.${process.pid}.`));
  await Promise.all(torn.map((name) => rm(join(dir, name), { force: true }).catch(() => {})));
  return torn.length;
}

/** Where a store reports a file it had to set aside or could not write. */
export interface StoreReporter {
  error(msg: string, fields: Record<string, unknown>): void;
}

/**
 * `writeFileAtomic` for state whose loss costs only its survival across a restart: a disk that
 * refuses (full, read-only) is reported and the state in memory stays in force. False when not saved.
 */
export async function saveFile(path: string, data: string, log: StoreReporter): Promise<boolean> {
  try {
    await writeFileAtomic(path, data);
    return true;
  } catch (err) {
    log.error('not saved: in force until the next restart only', {
      path,
      code: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
    });
    return false;
  }
}

/** What `readStore` found: the value to use, and why the file was unreadable (null: it was fine, or absent). */
export interface StoreRead<T> {
  readonly value: T;
  readonly damaged: string | null;
}

/** The JSON content of a state file, its checksum checked (`checksum.ts`): the value, or why it cannot be read. */
export function parseStored(text: string): { readonly value: unknown } | { readonly reason: string } {
  try {
    const checked = unseal(text);
    return 'mismatch' in checked ? { reason: 'checksum mismatch' } : checked;
  } catch (err) {
    return { reason: text === '' ? 'empty' : (err as Error).message };
  }
}

/** One generation's JSON: `missing` when there is no file, else what it holds or why it cannot be read. */
async function readGeneration(
  path: string,
  accept: (stored: unknown) => boolean,
): Promise<'missing' | { value: unknown } | { reason: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'missing' : { reason: code ?? (err as Error).message };
  }
  const parsed = parseStored(text);
  if (!('value' in parsed)) return parsed;
  return accept(parsed.value) ? { value: parsed.value } : { reason: 'unexpected content' };
}

/**
 * A JSON state file with the previous generation as a fallback. Every store's file is one JSON
 * object (with its checksum member, `checksum.ts`) or array, so a write cut at any byte (a strict
 * prefix of it) never parses, nor does a file emptied, zero-filled or overwritten with garbage; a
 * flipped bit that still parses fails an object's checksum; `accept` catches the wrong shape.
 * - `<path>` readable: its value.
 * - `<path>` missing: `<path>.prev` (a crash between the writer's two renames), else `fallback`.
 * - `<path>` unreadable (`damaged` says why): reported, set aside as `<path>.corrupt` unless
 *   `setAside` is false (the caller replaces it with `writeFileAtomic(…, { replaceDamaged })`), and
 *   the value is `<path>.prev`'s when that is readable, else `fallback`. The caller takes its safe side.
 */
export async function readStore<T>(
  path: string,
  fallback: T,
  accept: (stored: unknown) => stored is T,
  log: StoreReporter,
  options: { readonly setAside?: boolean } = {},
): Promise<StoreRead<T>> {
  const current = await readGeneration(path, accept);
  if (current !== 'missing' && 'value' in current) return { value: current.value as T, damaged: null };
  const previous = await readGeneration(`${path}.prev`, accept);
  const older = previous !== 'missing' && 'value' in previous ? (previous.value as T) : fallback;
  if (current === 'missing') return { value: older, damaged: null };
  const setAside = options.setAside !== false;
  log.error('stored file unreadable', {
    path,
    reason: current.reason,
    usingPreviousGeneration: older !== fallback,
    ...(setAside && { setAsideAs: `${path}.corrupt` }),
  });
  if (setAside) await rename(path, `${path}.corrupt`).catch(() => {});
  return { value: older, damaged: current.reason };
}

/**
 * The stored JSON in `path` when `accept` takes it, `fallback` when there is no file; a damaged
 * file is set aside and reported (`readStore`): for state whose loss is not safety-relevant.
 */
export async function readStoredJson<T>(
  path: string,
  fallback: T,
  accept: (stored: unknown) => stored is T,
  log: StoreReporter,
): Promise<T> {
  return (await readStore(path, fallback, accept, log)).value;
}

/** An accept function for stored files that hold one JSON object. */
export function isJsonObject<T extends object>(stored: unknown): stored is T {
  return stored !== null && typeof stored === 'object' && !Array.isArray(stored);
}

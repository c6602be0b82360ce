import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Writes `data` so that a crash or power loss leaves either the old or the new file, never a torn
 * one: temp file in the same folder, fsync, rename over the target, fsync the folder.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/** Temp files of writes a crash cut short (the target kept its last good version); removed at boot. */
export async function removeTornWrites(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const torn = names.filter((name) => /^\.\d+\.[0-9a-f]{8}\.tmp$/.test(name) && !name.startsWith(`.${process.pid}.`));
  await Promise.all(torn.map((name) => rm(join(dir, name), { force: true }).catch(() => {})));
  return torn.length;
}

/** The parsed JSON in `path`, or `fallback` when the file does not exist. */
async function readJsonFile<T>(path: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw err;
  }
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
    log.error('not saved: in force until the next restart only', { path, code: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    return false;
  }
}

/**
 * The stored JSON in `path` when `accept` takes it, `fallback` when there is no file. A file that
 * does not parse or is not accepted (torn, truncated, garbage) is set aside as `<path>.corrupt`,
 * reported, and `fallback` is returned: a damaged file must never stop the box from booting.
 */
export async function readStoredJson<T>(path: string, fallback: T, accept: (stored: unknown) => stored is T, log: StoreReporter): Promise<T> {
  try {
    const stored = await readJsonFile<unknown>(path, fallback);
    if (accept(stored)) return stored;
    throw new Error('unexpected content');
  } catch (err) {
    log.error('stored file unreadable; set aside', { path, setAsideAs: `${path}.corrupt`, reason: (err as Error).message });
    await rename(path, `${path}.corrupt`).catch(() => {});
    return fallback;
  }
}

/** An accept function for stored files that hold one JSON object. */
export function isJsonObject<T extends object>(stored: unknown): stored is T {
  return stored !== null && typeof stored === 'object' && !Array.isArray(stored);
}

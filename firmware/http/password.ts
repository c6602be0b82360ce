import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseStored, writeFileAtomic } from '../store/atomic-file.js';

/**
 * The web password, kept in `dataDir/http-password.json` (mode 0600) as a salted scrypt hash with
 * its parameters, so they can be raised later without breaking stored hashes. There is no
 * default password: until one is set, the API only offers the first-start setup.
 */

export const PASSWORD_FILE = 'http-password.json';
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

/** 32 MiB and about 0.1 s per check on a small SoM: slow for a guesser, bearable for a login. */
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

interface StoredHash {
  readonly algorithm: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
  readonly hash: string;
}

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }, keyLength: number): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  // The async form runs in libuv's pool: the control loop keeps its 5 ms pace during a login.
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Why `password` cannot be used, or null. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `must have at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `must have at most ${MAX_PASSWORD_LENGTH} characters`;
  return null;
}

function isStoredHash(value: unknown): value is StoredHash {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    v['algorithm'] === 'scrypt' &&
    [v['N'], v['r'], v['p']].every((n) => Number.isInteger(n) && (n as number) > 0) &&
    typeof v['salt'] === 'string' &&
    typeof v['hash'] === 'string'
  );
}

export class PasswordFile {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, PASSWORD_FILE);
  }

  /**
   * The stored hash, read anew each time so that the installer tool can set the password while
   * the firmware runs. A file that is not a hash counts as no password (and is reported by the caller).
   */
  async #read(): Promise<StoredHash | null | { damaged: string }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      return { damaged: code ?? (err as Error).message }; // a directory in its place, a bad disk
    }
    const parsed = parseStored(text);
    if (!('value' in parsed))
      return { damaged: text === '' ? 'empty' : parsed.reason === 'checksum mismatch' ? parsed.reason : 'not JSON' };
    return isStoredHash(parsed.value) ? parsed.value : { damaged: 'not a password hash' };
  }

  /**
   * Why the stored password cannot be read (null: it can, or none is set). While it cannot, the
   * web API refuses everything with this reason: neither a login (no hash to check) nor the
   * first-start setup (it would let anyone in) is safe. The firmware runs on.
   */
  async problem(): Promise<string | null> {
    const stored = await this.#read();
    return stored !== null && 'damaged' in stored
      ? `${PASSWORD_FILE} unreadable (${stored.damaged}): set a new password with npm run http-password`
      : null;
  }

  async isSet(): Promise<boolean> {
    const stored = await this.#read();
    return stored !== null && !('damaged' in stored);
  }

  /** Whether `password` is the one stored; false when none is. */
  async verify(password: string): Promise<boolean> {
    const stored = await this.#read();
    if (stored === null || 'damaged' in stored) return false;
    const expected = Buffer.from(stored.hash, 'base64');
    const actual = await derive(password, Buffer.from(stored.salt, 'base64'), stored, expected.length);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /** Stores a new hash (atomic, mode 0600); the caller has checked `passwordProblem`. */
  async set(password: string): Promise<void> {
    const salt = randomBytes(16);
    const hash = await derive(password, salt, COST, KEY_LENGTH);
    const stored: StoredHash = { algorithm: 'scrypt', ...COST, salt: salt.toString('base64'), hash: hash.toString('base64') };
    await writeFileAtomic(this.path, JSON.stringify(stored, null, 2) + '\n');
  }
}

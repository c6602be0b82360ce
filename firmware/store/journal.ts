import { open, readFile, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { writeFileAtomic } from './atomic-file.js';

/**
 * An append-only file of JSON lines, for state that changes too often to rewrite whole: each
 * record is written and synced (fdatasync) before the next, in the order given, so a crash or
 * power loss leaves every record but at most a torn last line, which reading skips. `rewrite`
 * compacts it atomically. A write that fails (full or read-only disk) is logged and the caller's
 * state in memory goes on; the next write tries again.
 */
export class Journal<R> {
  readonly #path: string | null;
  readonly #log: Logger;
  #file: FileHandle | null = null;
  #writing: Promise<void> = Promise.resolve();
  #failing: string | null = null;

  private constructor(path: string | null, log: Logger) {
    this.#path = path;
    this.#log = log;
  }

  /** Opens the journal at `path` (null: kept nowhere) and returns the records `accept` takes, in order. */
  static async open<R>(path: string | null, accept: (record: unknown) => record is R, log: Logger): Promise<{ journal: Journal<R>; records: R[] }> {
    const journal = new Journal<R>(path, log);
    return { journal, records: path === null ? [] : await readRecords(path, accept, log) };
  }

  /** Whether the last write went through. */
  get healthy(): boolean {
    return this.#failing === null;
  }

  append(record: R): void {
    this.#enqueue(async () => {
      this.#file ??= await open(this.#path as string, 'a', 0o600);
      await this.#file.appendFile(`${JSON.stringify(record)}\n`);
      await this.#file.datasync();
    });
  }

  /** Replaces the whole journal with `records` (compaction), atomically. */
  rewrite(records: readonly R[]): void {
    this.#enqueue(async () => {
      await this.#closeFile();
      await writeFileAtomic(this.#path as string, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    });
  }

  /** Resolves when everything given so far is written (or has failed and been logged). */
  flush(): Promise<void> {
    return this.#writing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#closeFile();
  }

  #enqueue(write: () => Promise<void>): void {
    if (this.#path === null) return;
    this.#writing = this.#writing.then(write).then(
      () => {
        if (this.#failing !== null) this.#log.info('journal writable again', { path: this.#path });
        this.#failing = null;
      },
      async (err: unknown) => {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        // Once per kind of failure, not once per record: a full disk must not flood the log.
        if (this.#failing !== code) this.#log.error('journal write failed; kept in memory only', { path: this.#path, code });
        this.#failing = code;
        await this.#closeFile();
      },
    );
  }

  async #closeFile(): Promise<void> {
    const file = this.#file;
    this.#file = null;
    await file?.close().catch(() => {});
  }
}

async function readRecords<R>(path: string, accept: (record: unknown) => record is R, log: Logger): Promise<R[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.error('journal unreadable; starting empty', { path, code: (err as NodeJS.ErrnoException).code });
    return [];
  }
  const lines = text.split('\n');
  const records: R[] = [];
  let skipped = 0;
  lines.forEach((line, i) => {
    if (line === '') return;
    try {
      const record: unknown = JSON.parse(line);
      if (accept(record)) {
        records.push(record);
        return;
      }
    } catch {
      // A torn last line is what a crash during an append leaves: expected, not damage.
      if (i === lines.length - 1) {
        log.warn('journal: torn last record skipped', { path });
        return;
      }
    }
    skipped += 1;
  });
  if (skipped > 0) log.error('journal: damaged records skipped', { path, skipped });
  return records;
}

import { createHash } from 'node:crypto';
import { open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { writeFileAtomic } from './atomic-file.js';

/** Hex digits of SHA-256 after each record: enough to tell a damaged or torn line from a good one. */
const CHECKSUM_DIGITS = 8;

function checksum(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, CHECKSUM_DIGITS);
}

/** The key of a line's number inside its record; no record has a key starting with `#`. */
const NUMBER_KEY = '#';

/**
 * One record as a line: its JSON with the line's number as a first member (`{"#":12<TAB>,...}`),
 * a tab, the checksum of the JSON. Numbers run on by one through the file and across rewrites, so
 * a tail cut at a line boundary (media damage, not a crash) or a line gone shows as a number
 * missing. Inside the JSON so that a version from before numbers (the updater may roll back to
 * one) still reads the line as `json<TAB>checksum` and its record guard ignores the extra key.
 * The tab after the number (JSON whitespace, never written by `JSON.stringify`) marks a number
 * this version wrote: a record an older version copied into its own lines, key and all, is read
 * as unnumbered instead of as a number out of turn.
 */
function line(number: number, record: unknown): string {
  const json = JSON.stringify(record);
  const numbered = json === '{}' ? `{"${NUMBER_KEY}":${number}\t}` : `{"${NUMBER_KEY}":${number}\t,${json.slice(1)}`;
  return `${numbered}\t${checksum(numbered)}\n`;
}

/** What opening a journal found: its records, the number of its last one (0: none numbered), whether damage lost any. */
export interface JournalRead<R> {
  readonly records: R[];
  readonly lastNumber: number;
  /** Lines skipped as damaged or numbers missing between lines (a torn last line is a crash, not damage). */
  readonly damaged: boolean;
  /** Its last record has no number: written by a version before numbers (the updater rolled back to one) since this version last wrote. */
  readonly olderWriterLast: boolean;
}

/**
 * An append-only file of JSON lines, for state that changes too often to rewrite whole: records
 * are written with their checksums in the order given and synced (fdatasync) before the next
 * write, so a crash or power loss leaves every record but at most a torn last line, which opening
 * drops (and cuts off, so the next record starts on a line of its own). Records given while a
 * write is under way go out together in the next one, with one sync (a group commit: a burst of
 * records costs the flash one sync, not one each). `rewrite` compacts it atomically.
 *
 * A write that fails (full or read-only disk) is logged once per kind; from then on the file is
 * stale: appends stop and `retry()` rewrites it whole from `snapshot` (the live state, so the
 * records that could not be written are not lost and memory stays bounded by that state);
 * `healthy` is false until that worked.
 */
export class Journal<R> {
  readonly #path: string | null;
  readonly #log: Logger;
  #file: FileHandle | null = null;
  #writing: Promise<void> = Promise.resolve();
  #failing: string | null = null;
  #snapshot: (() => readonly R[]) | null = null;
  /** Records of the append queued and not started yet: later records join it, until a rewrite is queued after it. */
  #batch: R[] | null = null;
  /** The number of the last record on disk. */
  #number = 0;

  private constructor(path: string | null, log: Logger) {
    this.#path = path;
    this.#log = log;
  }

  /** Opens the journal at `path` (null: kept nowhere) and returns the records `accept` takes, in order. */
  static async open<R>(
    path: string | null,
    accept: (record: unknown) => record is R,
    log: Logger,
  ): Promise<{ journal: Journal<R> } & JournalRead<R>> {
    const journal = new Journal<R>(path, log);
    const read =
      path === null ? { records: [], lastNumber: 0, damaged: false, olderWriterLast: false } : await readRecords(path, accept, log);
    journal.#number = read.lastNumber;
    return { journal, ...read };
  }

  /** The number of the last record on disk: what a reader must find at least, unless the file was damaged. */
  get durableNumber(): number {
    return this.#number;
  }

  /** Numbers go on after `number` (one a reader was promised before the file lost its tail), never back. */
  continueAfter(number: number): void {
    this.#number = Math.max(this.#number, number);
  }

  /** The live state as records: what rewrites a journal whose writes failed. */
  snapshotWith(snapshot: () => readonly R[]): void {
    this.#snapshot = snapshot;
  }

  /** Whether everything given so far is on disk (as far as the writes finished). */
  get healthy(): boolean {
    return this.#failing === null;
  }

  append(record: R): void {
    // A stale journal is rewritten whole by `retry()`; the record is in the live state meanwhile.
    if (this.#path === null || (this.#failing !== null && this.#snapshot !== null)) return;
    if (this.#batch !== null) {
      this.#batch.push(record);
      return;
    }
    const batch = [record];
    this.#batch = batch;
    this.#enqueue(async () => {
      if (this.#batch === batch) this.#batch = null;
      this.#file ??= await open(this.#path as string, 'a', 0o600);
      await this.#file.appendFile(batch.map((record, i) => line(this.#number + 1 + i, record)).join(''));
      await this.#file.datasync();
      this.#number += batch.length;
    });
  }

  /** Replaces the whole journal with `records` (compaction), atomically. */
  rewrite(records: readonly R[]): void {
    // A record appended from now on is not in `records`: it goes after the rewrite, not before.
    this.#batch = null;
    this.#enqueue(() => this.#rewrite(records));
  }

  /** A stale journal tries again to write the live state; resolves with whether it is healthy now. */
  async retry(): Promise<boolean> {
    if (this.#failing !== null && this.#snapshot !== null) {
      const snapshot = this.#snapshot;
      this.#batch = null;
      this.#enqueue(() => this.#rewrite(snapshot()));
    }
    await this.flush();
    return this.healthy;
  }

  /** Resolves when everything given so far is written (or has failed and been logged). */
  flush(): Promise<void> {
    return this.#writing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#closeFile();
  }

  async #rewrite(records: readonly R[]): Promise<void> {
    await this.#closeFile();
    const first = this.#number + 1;
    await writeFileAtomic(this.#path as string, records.map((record, i) => line(first + i, record)).join(''), { raw: true });
    this.#number += records.length;
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

/**
 * A line's record and number, checked against its checksum. Lines of older versions are taken
 * when they parse: without a number (`json<TAB>checksum`, number null) or without either (`json`);
 * a `#` key without this version's tab (copied by an older version) is dropped, the line unnumbered.
 */
function parseLine(text: string): { ok: true; number: number | null; record: unknown } | { ok: false } {
  const tab = text.lastIndexOf('\t');
  const body = tab === -1 ? text : text.slice(0, tab);
  if (tab !== -1 && checksum(body) !== text.slice(tab + 1)) return { ok: false };
  let record: unknown;
  try {
    record = JSON.parse(body);
  } catch {
    return { ok: false };
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return { ok: true, number: null, record };
  const { [NUMBER_KEY]: _number, ...rest } = record as Record<string, unknown>;
  const numbered = /^\{"#":(\d+)\t[,}]/.exec(body);
  return { ok: true, number: numbered ? Number(numbered[1]) : null, record: rest };
}

async function readRecords<R>(path: string, accept: (record: unknown) => record is R, log: Logger): Promise<JournalRead<R>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') log.error('journal unreadable; starting empty', { path, code });
    return { records: [], lastNumber: 0, damaged: code !== 'ENOENT', olderWriterLast: false };
  }
  const lines = text.split('\n');
  // What follows the last newline is a record whose append a crash cut: dropped, and cut off the
  // file, so that the next append does not continue its line.
  const tail = lines.pop() as string;
  let skipped = 0;
  if (tail !== '') {
    // A file that is all tail never had a whole record: not a torn append, a damage.
    if (lines.length === 0) skipped += 1;
    else log.warn('journal: torn last record dropped', { path });
    await truncate(path, Buffer.byteLength(text) - Buffer.byteLength(tail)).catch(() => {});
  }
  const records: R[] = [];
  let lastNumber = 0;
  let missing = 0;
  let olderWriterLast = false;
  for (const text of lines) {
    if (text === '') continue;
    const parsed = parseLine(text);
    if (!parsed.ok || !accept(parsed.record)) {
      skipped += 1;
      continue;
    }
    records.push(parsed.record);
    olderWriterLast = parsed.number === null;
    if (parsed.number === null) continue;
    // The first numbered line may start anywhere (a compacted file goes on from the old numbers).
    if (lastNumber > 0 && parsed.number !== lastNumber + 1) missing += Math.max(1, parsed.number - lastNumber - 1);
    lastNumber = Math.max(lastNumber, parsed.number);
  }
  if (skipped > 0) log.error('journal: damaged records skipped', { path, skipped });
  if (missing > 0) log.error('journal: records missing between lines', { path, missing });
  return { records, lastNumber, damaged: skipped > 0 || missing > 0, olderWriterLast };
}

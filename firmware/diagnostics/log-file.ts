import { createWriteStream, mkdirSync, openSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface LogFileOptions {
  /** A file is rotated when the next line would take it past this size. */
  readonly maxBytes?: number;
  /** Rotated files kept beside the live one (`firmware.log.1` is the newest). */
  readonly keep?: number;
}

const NAME = 'firmware.log';

/**
 * Fields of log lines meant only for someone at the box (its console or journal), never for the
 * copy GetDiagnostics uploads to the central system: the web interface's first-start setup code.
 */
const CONSOLE_ONLY = /"setupCode":/;

/**
 * The firmware's own copy of its log lines in `dataDir/logs/` for GetDiagnostics: the sim and the
 * tests have no journal, and on the SoM the journal may be volatile. Lines arrive already
 * redacted (the logger redacts before it writes). Writes are queued on a stream, so the control
 * loop never waits for the disk; at most (keep + 1) × maxBytes are kept. A disk that refuses
 * turns the copy off (the lines still reach stdout).
 */
export class LogFile {
  readonly dir: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  #stream: WriteStream | null = null;
  #bytes = 0;
  #failed = false;

  constructor(dir: string, options: LogFileOptions = {}) {
    this.dir = dir;
    this.#maxBytes = options.maxBytes ?? 1024 * 1024;
    this.#keep = options.keep ?? 3;
  }

  append(line: string): void {
    if (this.#failed || CONSOLE_ONLY.test(line)) return;
    const size = Buffer.byteLength(line) + 1;
    try {
      if (this.#stream === null) this.#open();
      else if (this.#bytes + size > this.#maxBytes) this.#rotate();
    } catch (err) {
      this.#fail(err);
      return;
    }
    this.#bytes += size;
    this.#stream?.write(line + '\n');
  }

  /** Lines whose `time` lies in [fromMs, toMs], oldest first (either bound may be absent). */
  async linesBetween(fromMs: number | null, toMs: number | null): Promise<string[]> {
    const files = [...Array.from({ length: this.#keep }, (_, i) => `${NAME}.${this.#keep - i}`), NAME];
    const lines: string[] = [];
    for (const name of files) {
      const text = await readFile(join(this.dir, name), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (line === '' || CONSOLE_ONLY.test(line)) continue;
        const timeMs = Date.parse(/"time":"([^"]+)"/.exec(line)?.[1] ?? '');
        if (fromMs !== null && !(timeMs >= fromMs)) continue;
        if (toMs !== null && !(timeMs <= toMs)) continue;
        lines.push(line);
      }
    }
    return lines;
  }

  async close(): Promise<void> {
    const stream = this.#stream;
    this.#stream = null;
    if (stream !== null) await new Promise<void>((resolve) => stream.end(resolve));
  }

  #open(): void {
    mkdirSync(this.dir, { recursive: true });
    try {
      this.#bytes = statSync(join(this.dir, NAME)).size;
    } catch {
      this.#bytes = 0;
    }
    if (this.#bytes >= this.#maxBytes) this.#shiftFiles();
    this.#stream = this.#createStream();
  }

  /** Renames are cheap and rare (once per maxBytes); the old stream finishes its queue into the renamed file. */
  #rotate(): void {
    this.#stream?.end();
    this.#shiftFiles();
    this.#stream = this.#createStream();
  }

  #shiftFiles(): void {
    for (let i = this.#keep - 1; i >= 1; i--) {
      try {
        renameSync(join(this.dir, `${NAME}.${i}`), join(this.dir, `${NAME}.${i + 1}`));
      } catch {
        // not there yet
      }
    }
    renameSync(join(this.dir, NAME), join(this.dir, `${NAME}.1`));
    this.#bytes = 0;
  }

  /** The file is opened at once (one quick syscall, rarely) so that a rotation never renames a file not created yet. */
  #createStream(): WriteStream {
    const stream = createWriteStream('', { fd: openSync(join(this.dir, NAME), 'a', 0o640) });
    stream.on('error', (err) => this.#fail(err));
    return stream;
  }

  #fail(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#stream?.destroy();
    this.#stream = null;
    process.stdout.write(
      JSON.stringify({
        time: new Date().toISOString(),
        level: 'error',
        msg: 'log file turned off',
        dir: this.dir,
        reason: (err as Error).message,
      }) + '\n',
    );
  }
}

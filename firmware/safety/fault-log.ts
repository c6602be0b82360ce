import { join } from 'node:path';
import type { Logger } from '../log.js';
import { isJsonObject, readStore, writeFileAtomic } from '../store/atomic-file.js';
import { FAULT_KINDS, type Fault } from './faults.js';

/** One fault as the history shows it. */
export interface FaultHistoryEntry extends Fault {
  readonly clearedAtMs: number | null;
}

interface FaultFile {
  /** Faults latched until an installer clears them; they survive restarts. */
  latched: Fault[];
  /** The most recent faults, newest last. */
  history: FaultHistoryEntry[];
}

export const HISTORY_LENGTH = 50;
const FILE_NAME = 'faults.json';

/**
 * The faults kept in `dataDir/faults.json`: the installer latches (a welded contactor, a failed
 * RCD self-test) and the last 50 faults with time and cause. Writes are atomic and run one after
 * the other in the order of the changes.
 */
export class FaultLog {
  /** Null: kept in memory only. */
  readonly #path: string | null;
  readonly #log: Logger;
  #data: FaultFile;
  #writing: Promise<void> = Promise.resolve();
  /** The file on disk is damaged: the next write puts it aside as `.corrupt` once its replacement is written. */
  #replaceDamaged = false;

  private constructor(path: string | null, data: FaultFile, log: Logger) {
    this.#path = path;
    this.#data = data;
    this.#log = log;
  }

  /**
   * The stored faults. An unreadable file (truncated, garbage, emptied, the wrong JSON type, a
   * directory in its place) may have held a latch, so it counts as latched (CONTRACT §6): a
   * `storage` fault latched for an installer, on top of what the previous generation of the file
   * still shows. The damaged file stays where it is until the new one, with that latch, is on
   * disk: a box that cannot write keeps finding it damaged at every start.
   */
  static async load(dataDir: string, log: Logger, nowMs: number = Date.now()): Promise<FaultLog> {
    const path = join(dataDir, FILE_NAME);
    const { value, damaged } = await readStore(path, { latched: [], history: [] }, isFaultFile, log, { setAside: false });
    const faultLog = new FaultLog(path, value, log);
    if (damaged !== null) {
      log.error('fault store unreadable: latched as a storage fault until an installer clears it', { path, reason: damaged });
      faultLog.#replaceDamaged = true;
      faultLog.raised({
        kind: 'storage',
        sinceMs: nowMs,
        cause: `${FILE_NAME} unreadable (${damaged}): a latch it held may be lost`,
        latch: 'installer',
      });
    }
    return faultLog;
  }

  /** A log that keeps nothing on disk (tests, the fleet simulator). */
  static inMemory(log: Logger): FaultLog {
    return new FaultLog(null, { latched: [], history: [] }, log);
  }

  get latched(): readonly Fault[] {
    return this.#data.latched;
  }

  get history(): readonly FaultHistoryEntry[] {
    return this.#data.history;
  }

  raised(fault: Fault): void {
    const history = [...this.#data.history, { ...fault, clearedAtMs: null }].slice(-HISTORY_LENGTH);
    const latched = fault.latch === 'installer' ? [...this.#data.latched, fault] : this.#data.latched;
    this.#data = { latched, history };
    this.#persist();
  }

  cleared(fault: Fault, nowMs: number): void {
    const history = this.#data.history.map((e) =>
      e.kind === fault.kind && e.sinceMs === fault.sinceMs ? { ...e, clearedAtMs: nowMs } : e,
    );
    this.#data = { latched: this.#data.latched.filter((f) => f.kind !== fault.kind || f.sinceMs !== fault.sinceMs), history };
    this.#persist();
  }

  /** An installer's clear: every installer latch ends now. */
  clearLatched(nowMs: number): void {
    for (const fault of this.#data.latched) this.cleared(fault, nowMs);
  }

  /** Resolves once every change so far is on disk. */
  flush(): Promise<void> {
    return this.#writing;
  }

  #persist(): void {
    const path = this.#path;
    if (path === null) return;
    const text = JSON.stringify(this.#data, null, 1);
    this.#writing = this.#writing
      .then(async () => {
        await writeFileAtomic(path, text, { replaceDamaged: this.#replaceDamaged });
        this.#replaceDamaged = false;
      })
      .catch((err: unknown) => this.#log.error('cannot save the fault log', { err }));
  }
}

function isFault(stored: unknown): stored is Fault {
  if (!isJsonObject<Fault>(stored)) return false;
  return (
    (FAULT_KINDS as readonly string[]).includes(stored.kind) &&
    typeof stored.sinceMs === 'number' &&
    typeof stored.cause === 'string' &&
    typeof stored.latch === 'string'
  );
}

function isFaultFile(stored: unknown): stored is FaultFile {
  return (
    isJsonObject<FaultFile>(stored) &&
    Array.isArray(stored.latched) &&
    stored.latched.every(isFault) &&
    Array.isArray(stored.history) &&
    stored.history.every(isFault)
  );
}

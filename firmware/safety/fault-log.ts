import { join } from 'node:path';
import type { Logger } from '../log.js';
import { isJsonObject, readStoredJson, writeFileAtomic } from '../store/atomic-file.js';
import type { Fault } from './faults.js';

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

  private constructor(path: string | null, data: FaultFile, log: Logger) {
    this.#path = path;
    this.#data = data;
    this.#log = log;
  }

  static async load(dataDir: string, log: Logger): Promise<FaultLog> {
    const data = await readStoredJson(join(dataDir, FILE_NAME), { latched: [], history: [] }, isFaultFile, log);
    return new FaultLog(join(dataDir, FILE_NAME), data, log);
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
    const history = this.#data.history.map((e) => (e.kind === fault.kind && e.sinceMs === fault.sinceMs ? { ...e, clearedAtMs: nowMs } : e));
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
      .then(() => writeFileAtomic(path, text))
      .catch((err: unknown) => this.#log.error('cannot save the fault log', { err }));
  }
}

function isFaultFile(stored: unknown): stored is FaultFile {
  return isJsonObject<FaultFile>(stored) && Array.isArray(stored.latched) && Array.isArray(stored.history);
}

import { join } from 'node:path';
import type { Logger } from '../log.js';
import { readStoredJson, saveFile } from '../store/atomic-file.js';

/** One finished charging transaction (OCPP) or session (plug-in to unplug, without OCPP). */
export interface PastTransaction {
  readonly source: 'ocpp' | 'local';
  /** The central system's id; null without OCPP or when it never arrived. */
  readonly transactionId: number | null;
  readonly idTag: string | null;
  readonly startedAt: string;
  readonly stoppedAt: string;
  readonly meterStartWh: number;
  readonly meterStopWh: number;
  readonly energyWh: number;
  /** OCPP's stop reason; local sessions end with EVDisconnected (unplug) or Reboot (the firmware stopped). */
  readonly reason: string;
}

export const HISTORY_FILE = 'transaction-history.json';
export const HISTORY_LENGTH = 100;

function isHistory(value: unknown): value is PastTransaction[] {
  return (
    Array.isArray(value) &&
    value.every(
      (v) =>
        v !== null &&
        typeof v === 'object' &&
        typeof (v as PastTransaction).startedAt === 'string' &&
        typeof (v as PastTransaction).energyWh === 'number',
    )
  );
}

/** The last 100 transactions with their energy, newest last, in `dataDir/transaction-history.json`. */
export class TransactionHistory {
  readonly #path: string;
  readonly #log: Logger;
  #entries: PastTransaction[];
  #writing: Promise<unknown> = Promise.resolve();

  private constructor(path: string, entries: PastTransaction[], log: Logger) {
    this.#path = path;
    this.#entries = entries;
    this.#log = log;
  }

  static async load(dataDir: string, log: Logger): Promise<TransactionHistory> {
    const path = join(dataDir, HISTORY_FILE);
    return new TransactionHistory(path, await readStoredJson(path, [], isHistory, log), log);
  }

  list(): readonly PastTransaction[] {
    return this.#entries;
  }

  add(entry: Omit<PastTransaction, 'energyWh'>): void {
    const energyWh = Math.max(0, entry.meterStopWh - entry.meterStartWh);
    this.#entries = [...this.#entries, { ...entry, energyWh }].slice(-HISTORY_LENGTH);
    const text = JSON.stringify(this.#entries, null, 1);
    // Writes in order; a disk that refuses is reported and the history lives on in memory.
    this.#writing = this.#writing.then(() => saveFile(this.#path, text, this.#log));
  }

  flush(): Promise<unknown> {
    return this.#writing;
  }
}

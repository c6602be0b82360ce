import { join } from 'node:path';
import type { Logger } from '../../log.js';
import { Type, type Static } from '@sinclair/typebox';
import { readStore, writeFileAtomic } from '../../store/atomic-file.js';
import type { QueueRecord, TxAction } from './tx-journal.js';
import { repairFromMarker, type JournalView } from './marker-repair.js';
import { storedCheck } from './stored-check.js';

const Int = Type.Integer();
/** A StartTransaction as queued: connectorId, idTag, meterStart, timestamp (and reservationId). */
const MarkedStart = Type.Object({ idTag: Type.String(), meterStart: Type.Number(), timestamp: Type.String() });
type MarkedStart = Static<typeof MarkedStart> & Record<string, unknown>;

/**
 * A transaction as its marker keeps it, from its StartTransaction being queued until its
 * StopTransaction is confirmed (or given up on): enough to close it honestly at the central
 * system if the journal loses its records.
 */
const MarkedTransaction = Type.Object({
  localId: Int,
  start: MarkedStart,
  /** From StartTransaction.conf; null until then. */
  transactionId: Type.Union([Int, Type.Null()]),
  /** The last meter reading the journal kept for it (every METER_KEEP_STEP_WH); null: none since the start. */
  lastMeter: Type.Union([Type.Object({ wh: Type.Number(), at: Type.String() }), Type.Null()]),
  /** Its StopTransaction as queued (the transactionId is added at send time); null while it runs. */
  stop: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
export type MarkedTransaction = Static<typeof MarkedTransaction> & { readonly start: MarkedStart };

/** `dataDir/ocpp-open-transactions.json`. */
const MarkerFileSchema = Type.Object({
  /** The journal had at least this many records on disk when the marker was written: fewer at boot means its tail was lost. */
  journalNumber: Int,
  open: Type.Array(MarkedTransaction),
  /** Transactions whose StopTransaction was confirmed (or given up on), latest last: never sent again. */
  finished: Type.Array(Int),
});
export interface MarkerFile {
  readonly journalNumber: number;
  readonly open: readonly MarkedTransaction[];
  readonly finished: readonly number[];
}

const checkStart = storedCheck(MarkedStart);
/** The marker file read back from disk, through its schema. */
const isMarkerFile = storedCheck(MarkerFileSchema);

const FILE = 'ocpp-open-transactions.json';
/** Finished transactions remembered: far more than a journal tail can hold between two marker writes. */
const FINISHED_KEPT = 50;
const EMPTY: MarkerFile = { journalNumber: 0, open: [], finished: [] };

/**
 * `dataDir/ocpp-open-transactions.json`, the open-transaction marker: a small state file of its
 * own (written atomically, with its previous generation) beside the journal, holding each
 * transaction from its StartTransaction until its StopTransaction is confirmed, and the number of
 * records the journal had on disk when it was written. At boot it closes at the central system a
 * transaction whose journal records a damaged disk lost (`repairFromMarker`). Writes are
 * coalesced (one in flight, the latest state next), each after the journal has flushed.
 */
export class OpenTransactionMarker {
  readonly #path: string | null;
  readonly #log: Logger;
  #file: MarkerFile;
  #journal: { flush(): Promise<void>; readonly durableNumber: number } | null = null;
  #dirty = false;
  #writing: Promise<void> | null = null;
  #failing = false;
  /** Why the marker file could not be read at boot (null: it could). */
  readonly damaged: string | null;
  /** What the journal had lost at boot, when it had (status API). */
  journalDamage: string | null = null;

  private constructor(path: string | null, file: MarkerFile, damaged: string | null, log: Logger) {
    this.#path = path;
    this.#file = file;
    this.damaged = damaged;
    this.#log = log;
  }

  static async load(dataDir: string | null, log: Logger): Promise<OpenTransactionMarker> {
    if (dataDir === null) return new OpenTransactionMarker(null, EMPTY, null, log);
    const path = join(dataDir, FILE);
    const { value, damaged } = await readStore(path, EMPTY, isMarkerFile, log);
    return new OpenTransactionMarker(path, value, damaged, log);
  }

  /** The journal had at least this many records on disk at the last marker write. */
  get journalNumber(): number {
    return this.#file.journalNumber;
  }

  /** The journal whose flushed records the marker's number counts. */
  bindJournal(journal: { flush(): Promise<void>; readonly durableNumber: number }): void {
    this.#journal = journal;
  }

  /** At boot, after the journal was replayed: the records that give back what it lost (logged at error). */
  repair(journal: JournalView): QueueRecord[] {
    const repair = repairFromMarker(this.#file, journal);
    for (const finding of repair.findings) this.#log.error(finding.msg, finding.fields);
    if (repair.journalLost)
      this.journalDamage =
        repair.restored > 0 ? `records lost; ${repair.restored} open transaction(s) closed from the marker` : 'records lost';
    // A box's first start (no marker, an empty journal) has nothing to record: the empty marker
    // it would write reads back as the missing one.
    const firstStart = this.#file === EMPTY && this.damaged === null && journal.lastNumber === 0 && journal.records.length === 0;
    if (repair.stale.length > 0) this.#update({ open: this.#file.open.filter((m) => !repair.stale.includes(m.localId)) });
    else if (this.#path !== null && !firstStart) void this.#save();
    return repair.records;
  }

  /** A transaction message was queued: a StartTransaction marks its transaction, a StopTransaction is kept with it. */
  pushed(action: TxAction, localId: number, payload: Record<string, unknown>): void {
    if (action === 'StartTransaction' && checkStart(payload))
      this.#update({ open: [...this.#file.open, { localId, start: payload, transactionId: null, lastMeter: null, stop: null }] });
    else if (action === 'StopTransaction') this.#change(localId, { stop: payload });
  }

  /** A meter reading the journal kept for an open transaction. */
  meter(localId: number, wh: number, at: string): void {
    this.#change(localId, { lastMeter: { wh, at } });
  }

  /** StartTransaction.conf gave the transactionId. */
  started(localId: number, transactionId: number): void {
    this.#change(localId, { transactionId });
  }

  /**
   * Its StopTransaction was confirmed (or given up on): unmarked, and remembered as finished,
   * on disk before the journal keeps the confirmation, so no crash or damage between them can
   * send it again. Resolves when written (or the write failed and was logged).
   */
  finished(localId: number): Promise<void> {
    if (!this.#file.open.some((m) => m.localId === localId)) return Promise.resolve();
    return this.#update({
      open: this.#file.open.filter((m) => m.localId !== localId),
      finished: [...this.#file.finished.filter((id) => id !== localId), localId].slice(-FINISHED_KEPT),
    });
  }

  /** Resolves when the latest state is written (or its write failed and was logged). */
  flush(): Promise<void> {
    return this.#writing ?? Promise.resolve();
  }

  #change(localId: number, change: Partial<MarkedTransaction>): void {
    if (!this.#file.open.some((m) => m.localId === localId)) return;
    void this.#update({ open: this.#file.open.map((m) => (m.localId === localId ? { ...m, ...change } : m)) });
  }

  #update(change: Partial<MarkerFile>): Promise<void> {
    this.#file = { ...this.#file, ...change };
    return this.#save();
  }

  #save(): Promise<void> {
    if (this.#path === null) return Promise.resolve();
    this.#dirty = true;
    this.#writing ??= this.#writeLoop(this.#path).finally(() => (this.#writing = null));
    return this.#writing;
  }

  async #writeLoop(path: string): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false;
      // The number counts only records on disk: a crash after this write cannot look like damage.
      await this.#journal?.flush();
      this.#file = { ...this.#file, journalNumber: Math.max(this.#file.journalNumber, this.#journal?.durableNumber ?? 0) };
      try {
        await writeFileAtomic(path, JSON.stringify(this.#file, null, 1));
        if (this.#failing) this.#log.info('open-transaction marker writable again', { path: this.#path });
        this.#failing = false;
      } catch (err) {
        if (!this.#failing)
          this.#log.error('open-transaction marker not written: the journal alone keeps the transaction', {
            path: this.#path,
            code: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
          });
        this.#failing = true;
      }
    }
  }
}

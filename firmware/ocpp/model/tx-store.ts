import { join } from 'node:path';
import type { Clock } from '../../../hal/clock.js';
import type { Logger } from '../../log.js';
import { Journal } from '../../store/journal.js';
import type { ResponseOf } from '../messages.js';
import {
  applyRecord,
  carriesSignedData,
  emptyJournalState,
  isDeadLetter,
  isQueueRecord,
  liveRecords,
  replayRecord,
  type DeadLetter,
  type JournalState,
  type OpenTransaction,
  type QueueRecord,
  type Queued,
  type TxAction,
} from './tx-journal.js';
import { OpenTransactionMarker } from './open-transaction-marker.js';
import type { Outbox } from './tx-sender.js';

/** The central system's answer to a transaction message. */
export type TxResponse = ResponseOf<TxAction>;

/** The journal and the dead-letter file as read at boot (`TransactionStore.load`). */
export interface StoredQueue {
  readonly journal: Journal<QueueRecord>;
  readonly records: readonly QueueRecord[];
  readonly deadLetters: Journal<DeadLetter>;
  /** Issue #18: the open-transaction marker, and what opening the journal found (`open-transaction-marker.ts`). */
  readonly marker: OpenTransactionMarker;
  readonly lastNumber: number;
  readonly olderWriterLast: boolean;
  readonly readDamaged: boolean;
}

/** Bound of the queue. Beyond it, sampled MeterValues are thinned (every second one goes); Start and Stop never are. */
export const MAX_QUEUED_MESSAGES = 5000;
/** Done records after which the journal is compacted. */
const COMPACT_AFTER = 1000;
/** While the journal cannot be written, it is tried again this often (and at every new record). */
export const JOURNAL_RETRY_MS = 5000;

/**
 * The transaction store: the journal in `dataDir` of the transaction messages (StartTransaction,
 * StopTransaction, transaction MeterValues) not yet confirmed, the open transactions with their
 * last meter reading (so a transaction cut by a crash can be closed at the next boot), the
 * transactionIds, the dead-letter file, and the open-transaction marker that repairs a damaged
 * journal. It decides nothing about sending: that is `TxSender`'s, through the `Outbox` it offers.
 */
export class TransactionStore implements Outbox<Queued, TxResponse> {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #journal: Journal<QueueRecord>;
  readonly #deadLetters: Journal<DeadLetter>;
  readonly #state: JournalState = emptyJournalState();
  readonly #marker: OpenTransactionMarker;
  #doneSinceCompaction = 0;
  #deadLetterCount = 0;
  #retryTimer: ReturnType<Clock['setTimeout']> | null = null;
  readonly #durableListeners = new Set<() => void>();

  /** The store as the journal left it: messages not yet confirmed, transactions still open. */
  constructor(options: { readonly clock: Clock; readonly log: Logger }, stored: StoredQueue) {
    this.#clock = options.clock;
    this.#log = options.log;
    this.#journal = stored.journal;
    this.#deadLetters = stored.deadLetters;
    for (const record of stored.records) replayRecord(this.#state, record);
    // Issue #18 hook: what a damaged journal lost, its open-transaction marker gives back.
    this.#marker = stored.marker;
    const { records, readDamaged, lastNumber, olderWriterLast } = stored;
    const repair = this.#marker.repair({ readDamaged, lastNumber, olderWriterLast, records, ...this.#state });
    for (const record of repair) replayRecord(this.#state, record);
    this.#journal.snapshotWith(() => liveRecords(this.#state));
    if (stored.records.length + repair.length > 0) this.#compact();
  }

  /** Reads the journal in `dataDir` (null: memory only). */
  static async load(dataDir: string | null, log: Logger): Promise<StoredQueue> {
    const path = (name: string): string | null => (dataDir === null ? null : join(dataDir, name));
    const marker = await OpenTransactionMarker.load(dataDir, log);
    const { journal, records, lastNumber, damaged, olderWriterLast } = await Journal.open(
      path('ocpp-transactions.jsonl'),
      isQueueRecord,
      log,
    );
    // Numbers never go back below what the marker saw on disk, even after the tail was lost.
    journal.continueAfter(marker.journalNumber);
    marker.bindJournal(journal);
    const { journal: deadLetters } = await Journal.open(path('ocpp-dead-letter.jsonl'), isDeadLetter, log);
    return { journal, records, deadLetters, marker, lastNumber, olderWriterLast, readDamaged: damaged };
  }

  get length(): number {
    return this.#state.messages.length;
  }

  get head(): Queued | undefined {
    return this.#state.messages[0];
  }

  /**
   * Whether the journal has everything so far on disk. False while `dataDir` cannot be written:
   * the messages then wait in memory (bounded like the queue) and nothing is sent, so that no
   * message the central system confirmed can be sent again after a crash (its record was never
   * kept); the journal is rewritten from memory every JOURNAL_RETRY_MS until it works.
   */
  get durable(): boolean {
    return this.#journal.healthy;
  }

  /** Calls `listener` when the journal, after failing, has everything on disk again. */
  onDurable(listener: () => void): () => void {
    this.#durableListeners.add(listener);
    return () => this.#durableListeners.delete(listener);
  }

  /** Issue #18: what the journal had lost at boot (null: nothing), and why the marker could not be read (null: it could). */
  get journalDamage(): { readonly journal: string | null; readonly marker: string | null } {
    return { journal: this.#marker.journalDamage, marker: this.#marker.damaged };
  }

  /** Messages given up on since this start (they are in the dead-letter file). */
  get deadLetterCount(): number {
    return this.#deadLetterCount;
  }

  /** Transactions opened and not yet closed by a StopTransaction (after a crash: the one it cut). */
  get openTransactions(): readonly OpenTransaction[] {
    return [...this.#state.open.values()];
  }

  /** The central system's transactionId of a local transaction, once StartTransaction.conf came. */
  transactionIdOf(localId: number): number | null {
    return this.#state.txIds.get(localId) ?? null;
  }

  /** Keeps a new transaction; returns its local id (unique across restarts). */
  openTransaction(info: Omit<OpenTransaction, 'localId' | 'lastMeter'>): number {
    const localId = this.#state.nextTx++;
    this.#state.open.set(localId, { localId, ...info, lastMeter: null });
    this.#journal.append({ k: 'open', tx: localId, ...info });
    return localId;
  }

  /** Keeps the latest meter reading of an open transaction (what a crash would close it with). */
  recordMeter(localId: number, wh: number, at: string): void {
    if (!this.#state.open.has(localId)) return;
    const record: QueueRecord = { k: 'meter', tx: localId, wh, at };
    applyRecord(this.#state, record);
    this.#journal.append(record);
    this.#marker.meter(localId, wh, at);
  }

  /** Keeps a message of transaction `localId`; a StopTransaction closes it. */
  push(action: TxAction, localId: number, payload: Record<string, unknown>): void {
    const record: QueueRecord = { k: 'msg', seq: this.#state.nextSeq++, tx: localId, action, payload };
    applyRecord(this.#state, record);
    this.#journal.append(record);
    this.#marker.pushed(action, localId, payload);
    if (this.#state.messages.length > MAX_QUEUED_MESSAGES) this.#thin();
  }

  async persist(): Promise<boolean> {
    await this.#journal.flush();
    if (!this.#journal.healthy) this.#scheduleRetry();
    return this.#journal.healthy;
  }

  written(): Promise<void> {
    return this.#journal.flush();
  }

  /** Resolves when the journal has written (or failed to write) everything so far; `durable` tells which. */
  async flush(): Promise<void> {
    await Promise.all([this.#journal.flush(), this.#deadLetters.flush(), this.#marker.flush()]);
    if (!this.#journal.healthy) this.#scheduleRetry();
  }

  async close(): Promise<void> {
    if (this.#retryTimer !== null) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    await Promise.all([this.#journal.close(), this.#deadLetters.close(), this.#marker.flush()]);
  }

  /** What goes on the wire: Stop and MeterValues with the transactionId; none when there never will be one. */
  wireForm(message: Queued): { readonly payload: Record<string, unknown> } | { readonly unsendable: string } {
    if (message.action === 'StartTransaction') return { payload: message.payload };
    const transactionId = this.#state.txIds.get(message.tx);
    if (transactionId === undefined) return { unsendable: 'its StartTransaction was given up on: no transactionId' };
    return { payload: { ...message.payload, transactionId } };
  }

  async confirmed(message: Queued, response: TxResponse): Promise<void> {
    if ('transactionId' in response) {
      this.#record({ k: 'txid', tx: message.tx, id: response.transactionId });
      this.#marker.started(message.tx, response.transactionId);
    }
    // Issue #18 hook: the marker knows a confirmed stop before the journal does (never sent again).
    if (message.action === 'StopTransaction') await this.#marker.finished(message.tx);
    this.#record({ k: 'done', seq: message.seq });
  }

  failed(message: Queued, failures: number): void {
    message.failures = failures;
    this.#journal.append({ k: 'fail', seq: message.seq, failures });
  }

  /** Gives up on a message: into the dead-letter file, logged; a StartTransaction takes its transaction's messages along. */
  deadLetter(message: Queued, reason: string): void {
    const related = message.action === 'StartTransaction' ? this.#state.messages.filter((m) => m.tx === message.tx) : [message];
    if (related.some((m) => m.action === 'StopTransaction')) void this.#marker.finished(message.tx);
    for (const m of related) {
      this.#deadLetters.append({
        at: new Date(this.#clock.now()).toISOString(),
        reason,
        action: m.action,
        localId: m.tx,
        payload: m.payload,
      });
      this.#record({ k: 'done', seq: m.seq });
    }
    this.#deadLetterCount += related.length;
    this.#log.error('transaction message given up on: kept in the dead-letter file', {
      action: message.action,
      reason,
      alsoGivenUp: related.length - 1,
    });
  }

  /** The journal failed: it is rewritten from memory every JOURNAL_RETRY_MS until that works. */
  #scheduleRetry(): void {
    if (this.#retryTimer !== null) return;
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = null;
      void this.#journal.retry().then((healthy) => {
        if (!healthy) return this.#scheduleRetry();
        for (const listener of this.#durableListeners) listener();
      });
    }, JOURNAL_RETRY_MS);
  }

  /** Over the bound: every second queued sampled MeterValues goes, oldest first; Start, Stop and signed records (CONTRACT §9) stay. */
  #thin(): void {
    const meterValues = this.#state.messages.slice(1).filter((m) => m.action === 'MeterValues' && !carriesSignedData(m.payload));
    const dropped = meterValues.filter((_, i) => i % 2 === 1);
    for (const m of dropped) this.#record({ k: 'done', seq: m.seq });
    this.#log.warn('transaction queue full: sampled meter values thinned', {
      dropped: dropped.length,
      queued: this.#state.messages.length,
    });
  }

  #record(record: QueueRecord): void {
    applyRecord(this.#state, record);
    this.#journal.append(record);
    if (record.k === 'done' && ++this.#doneSinceCompaction >= COMPACT_AFTER) this.#compact();
  }

  /** Rewrites the journal as the live state only. */
  #compact(): void {
    this.#doneSinceCompaction = 0;
    this.#journal.rewrite(liveRecords(this.#state));
  }
}

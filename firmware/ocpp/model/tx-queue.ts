import type { Clock } from '../../../hal/clock.js';
import type { Logger } from '../../log.js';
import { ocpp16, type RequestOf } from '../messages.js';
import * as MeterValues from '../operations/MeterValues.js';
import * as StartTransaction from '../operations/StartTransaction.js';
import * as StopTransaction from '../operations/StopTransaction.js';
import { RpcError, type OcppRpc } from '../rpc.js';
import type { OpenTransaction, Queued, TxAction } from './tx-journal.js';
import { TransactionStore, type StoredQueue, type TxResponse } from './tx-store.js';
import { TxSender } from './tx-sender.js';

export { JOURNAL_RETRY_MS, MAX_QUEUED_MESSAGES } from './tx-store.js';
export type { OpenTransaction, StoredQueue, TxAction, TxResponse };

export interface TxQueueOptions {
  readonly rpc: OcppRpc;
  readonly clock: Clock;
  readonly log: Logger;
  /** TransactionMessageAttempts */
  readonly attempts: () => number;
  /** TransactionMessageRetryInterval, s */
  readonly retryIntervalS: () => number;
  /** The link is up and Boot is Accepted. */
  readonly canSend: () => boolean;
}

/**
 * The transaction messages of OCPP 1.6 (StartTransaction, StopTransaction, transaction
 * MeterValues): the store that keeps them (`tx-store.ts`: journal, open transactions, dead
 * letters, marker) and the sender that sends them in order (`tx-sender.ts`: drain, retry by
 * TransactionMessageAttempts / TransactionMessageRetryInterval, dead-letter), joined here with
 * the 1.6 operations that put them on the wire. StopTransaction and MeterValues get their
 * transactionId at send time, from StartTransaction.conf.
 */
export class TxQueue {
  readonly #store: TransactionStore;
  readonly #sender: TxSender<Queued, TxResponse>;
  /** Called with the central system's answer to each message sent, and what was sent. */
  onConfirmed: (action: TxAction, localId: number, response: TxResponse, payload: Record<string, unknown>) => void = () => {};

  /** The queue as the journal left it: messages not yet confirmed, transactions still open. */
  constructor(options: TxQueueOptions, stored: StoredQueue) {
    const { rpc, clock, log } = options;
    this.#store = new TransactionStore({ clock, log }, stored);
    this.#sender = new TxSender({
      outbox: this.#store,
      clock,
      attempts: options.attempts,
      retryIntervalS: options.retryIntervalS,
      canSend: options.canSend,
      connected: () => rpc.connected,
      send: (message, payload) => sendQueued({ rpc }, message.action, payload),
      isRefusal: (err) => err instanceof RpcError,
      onConfirmed: (message, response, payload) => this.onConfirmed(message.action, message.tx, response, payload),
    });
    // The journal has everything on disk again: what waited for it goes out.
    this.#store.onDurable(() => void this.#sender.drain());
  }

  /** Reads the journal in `dataDir` (null: memory only). */
  static load(dataDir: string | null, log: Logger): Promise<StoredQueue> {
    return TransactionStore.load(dataDir, log);
  }

  get length(): number {
    return this.#store.length;
  }

  /** Whether the journal has everything so far on disk (`TransactionStore.durable`). */
  get durable(): boolean {
    return this.#store.durable;
  }

  /** Calls `listener` when the journal, after failing, has everything on disk again. */
  onDurable(listener: () => void): () => void {
    return this.#store.onDurable(listener);
  }

  /** Issue #18: what the journal had lost at boot (null: nothing), and why the marker could not be read (null: it could). */
  get journalDamage(): { readonly journal: string | null; readonly marker: string | null } {
    return this.#store.journalDamage;
  }

  /** Messages given up on since this start (they are in the dead-letter file). */
  get deadLetterCount(): number {
    return this.#store.deadLetterCount;
  }

  /** Transactions opened and not yet closed by a StopTransaction (after a crash: the one it cut). */
  get openTransactions(): readonly OpenTransaction[] {
    return this.#store.openTransactions;
  }

  /** The central system's transactionId of a local transaction, once StartTransaction.conf came. */
  transactionIdOf(localId: number): number | null {
    return this.#store.transactionIdOf(localId);
  }

  /** Keeps a new transaction; returns its local id (unique across restarts). */
  openTransaction(info: Omit<OpenTransaction, 'localId' | 'lastMeter'>): number {
    return this.#store.openTransaction(info);
  }

  /** Keeps the latest meter reading of an open transaction (what a crash would close it with). */
  recordMeter(localId: number, wh: number, at: string): void {
    this.#store.recordMeter(localId, wh, at);
  }

  /**
   * Queues a message of transaction `localId` and sends it in its turn; a StopTransaction closes
   * it. Its request as the schema has it, but for the transactionId, which the StartTransaction.conf
   * gives and which is added when it is sent (it may not exist yet when the message is queued).
   */
  push<A extends TxAction>(action: A, localId: number, payload: Omit<RequestOf<A>, 'transactionId'>): void {
    this.#store.push(action, localId, payload);
    void this.#sender.drain();
  }

  /** Sends what is queued, in order, while the link stays up; resolves when it stops for now. */
  drain(): Promise<void> {
    return this.#sender.drain();
  }

  /** Resolves when the journal has written (or failed to write) everything so far; `durable` tells which. */
  flush(): Promise<void> {
    return this.#store.flush();
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}

/** Sends a kept message by its operation, checked against its schema first: the journal is read back from disk. */
async function sendQueued(cp: { readonly rpc: OcppRpc }, action: TxAction, payload: Record<string, unknown>): Promise<TxResponse> {
  switch (action) {
    case 'StartTransaction':
      return StartTransaction.send(cp, checked(action, payload));
    case 'StopTransaction':
      return StopTransaction.send(cp, checked(action, payload));
    case 'MeterValues':
      return MeterValues.send(cp, checked(action, payload));
  }
}

function checked<A extends TxAction>(action: A, payload: Record<string, unknown>): RequestOf<A> {
  const request = ocpp16.request(action, payload);
  if (!request.ok) throw new Error(`refusing to send an invalid ${action}: ${request.violation.description}`);
  return request.value;
}

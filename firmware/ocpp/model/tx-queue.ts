import type { Clock } from '../../../hal/clock.js';
import type { Logger } from '../../log.js';
import { RpcError, type OcppRpc } from '../rpc.js';

/** A transaction message; `payload` is built at send time, so it can carry a transactionId that arrived later. */
export interface TxMessage {
  readonly action: 'StartTransaction' | 'StopTransaction' | 'MeterValues';
  /** The transaction it belongs to: when its StartTransaction is dropped, its other messages go too. */
  readonly transaction: object;
  /** Null while it waits for its transactionId. */
  payload(): object | null;
  onResult?(response: unknown): void;
}

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
 * The transaction messages (StartTransaction, StopTransaction, transaction MeterValues) in their
 * order, sent while the link is up and kept while it is down. A message the central system
 * refuses (CALLERROR or no answer) is tried TransactionMessageAttempts times, waiting
 * TransactionMessageRetryInterval × the attempts so far before each retry, then dropped and
 * logged; time offline never counts as an attempt. (In memory for now: the persisted journal is
 * the durability work.)
 */
export class TxQueue {
  readonly #o: TxQueueOptions;
  #messages: Array<{ message: TxMessage; failures: number }> = [];
  #running: Promise<void> | null = null;
  /** Transactions whose StartTransaction was dropped: their later messages cannot be sent either. */
  readonly #abandoned = new WeakSet<object>();

  constructor(options: TxQueueOptions) {
    this.#o = options;
  }

  get length(): number {
    return this.#messages.length;
  }

  push(message: TxMessage): void {
    if (this.#abandoned.has(message.transaction)) {
      this.#o.log.error('transaction message dropped: its StartTransaction was dropped', { action: message.action });
      return;
    }
    this.#messages.push({ message, failures: 0 });
    void this.drain();
  }

  /** Sends what is queued, in order, while the link stays up; resolves when it stops for now. */
  drain(): Promise<void> {
    this.#running ??= this.#loop().finally(() => (this.#running = null));
    return this.#running;
  }

  async #loop(): Promise<void> {
    while (this.#messages.length > 0 && this.#o.canSend()) {
      const head = this.#messages[0]!;
      const payload = head.message.payload();
      if (payload === null) return; // waits for the transactionId of its StartTransaction
      try {
        const response = await this.#o.rpc.call(head.message.action, payload);
        this.#messages.shift();
        head.message.onResult?.(response);
      } catch (err) {
        if (!this.#o.rpc.connected) return; // offline: not an attempt
        head.failures += 1;
        if (!(err instanceof RpcError) || head.failures >= this.#o.attempts()) {
          this.#drop(head.message, (err as Error).message);
          continue;
        }
        await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, this.#o.retryIntervalS() * 1000 * head.failures));
      }
    }
  }

  #drop(message: TxMessage, reason: string): void {
    if (message.action === 'StartTransaction') this.#abandoned.add(message.transaction);
    const related = message.action === 'StartTransaction' ? this.#messages.filter((m) => m.message.transaction === message.transaction) : [this.#messages[0]!];
    this.#messages = this.#messages.filter((m) => !related.includes(m));
    this.#o.log.error('transaction message dropped', { action: message.action, reason, alsoDropped: related.length - 1 });
  }
}

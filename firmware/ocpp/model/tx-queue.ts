import type { Logger } from '../../log.js';
import { RpcError, type OcppRpc } from '../rpc.js';

/** A transaction message; `payload` is built at send time, so it can carry a transactionId that arrived later. */
export interface TxMessage {
  readonly action: 'StartTransaction' | 'StopTransaction' | 'MeterValues';
  payload(): object | null;
  onResult?(response: unknown): void;
}

/**
 * The transaction messages (StartTransaction, StopTransaction, transaction MeterValues) in their
 * order, sent while the link is up and kept while it is down. A message the central system
 * refuses (CALLERROR) is tried TransactionMessageAttempts times, then dropped and logged; time
 * offline never counts as an attempt. (In memory for now: the persisted journal is the
 * durability work.)
 */
export class TxQueue {
  readonly #rpc: OcppRpc;
  readonly #log: Logger;
  readonly #attempts: () => number;
  readonly #canSend: () => boolean;
  readonly #messages: Array<{ message: TxMessage; failures: number }> = [];
  #draining = false;

  /** `canSend`: the link is up and Boot is Accepted. */
  constructor(rpc: OcppRpc, log: Logger, attempts: () => number, canSend: () => boolean) {
    this.#rpc = rpc;
    this.#log = log;
    this.#attempts = attempts;
    this.#canSend = canSend;
  }

  get length(): number {
    return this.#messages.length;
  }

  push(message: TxMessage): void {
    this.#messages.push({ message, failures: 0 });
    void this.drain();
  }

  /** Sends what is queued, in order, while the link stays up. */
  async drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#messages.length > 0 && this.#canSend()) {
        const head = this.#messages[0]!;
        const payload = head.message.payload();
        if (payload === null) break; // waits for the transactionId of its StartTransaction
        try {
          const response = await this.#rpc.call(head.message.action, payload);
          this.#messages.shift();
          head.message.onResult?.(response);
        } catch (err) {
          if (!this.#rpc.connected) break; // offline: not an attempt
          head.failures += 1;
          if (!(err instanceof RpcError) || head.failures >= this.#attempts()) {
            this.#log.error('transaction message dropped', { action: head.message.action, reason: (err as Error).message });
            this.#messages.shift();
          }
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}

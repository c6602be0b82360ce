import type { Clock } from '../../../hal/clock.js';

/** A kept message as the sender sees it: its place in the queue and the failed attempts so far. */
export interface OutgoingMessage {
  readonly seq: number;
  readonly failures: number;
}

/**
 * What the sender needs of the store that keeps the messages (`TransactionStore`): the head of
 * the queue and where each outcome goes. The sender knows no message type; the store knows no
 * sending (MicroOcpp's TransactionStore apart from its request queue).
 */
export interface Outbox<M extends OutgoingMessage, R> {
  /** The oldest message neither confirmed nor given up on. */
  readonly head: M | undefined;
  /** Writes what is pending; false while the store cannot be written (it then retries by itself and calls `drain` again). */
  persist(): Promise<boolean>;
  /** Resolves when the messages' records so far are written (or failed to be). */
  written(): Promise<void>;
  /** The wire form of `message`, or why it can never be sent. */
  wireForm(message: M): { readonly payload: Record<string, unknown> } | { readonly unsendable: string };
  /** The peer confirmed `message` with `response`; resolves when that is kept. */
  confirmed(message: M, response: R): Promise<void>;
  /** A failed attempt, `failures` so far: it is tried again later. */
  failed(message: M, failures: number): void;
  /** Given up on, with the reason. */
  deadLetter(message: M, reason: string): void;
}

export interface TxSenderOptions<M extends OutgoingMessage, R> {
  readonly outbox: Outbox<M, R>;
  readonly clock: Clock;
  /** TransactionMessageAttempts */
  readonly attempts: () => number;
  /** TransactionMessageRetryInterval, s */
  readonly retryIntervalS: () => number;
  /** The link is up and Boot is Accepted. */
  readonly canSend: () => boolean;
  /** The link is still up (after a failure: offline time is not an attempt). */
  readonly connected: () => boolean;
  /** Sends one message; rejects when the peer refused it or did not answer. */
  readonly send: (message: M, payload: Record<string, unknown>) => Promise<R>;
  /** The failure is the peer's answer (CALLERROR, timeout): an attempt. Anything else is given up on at once. */
  readonly isRefusal: (err: unknown) => boolean;
  /** Called with the peer's answer to each message sent, and what was sent. */
  readonly onConfirmed: (message: M, response: R, payload: Record<string, unknown>) => void;
}

/**
 * The sender of the kept messages: drains the outbox in order while the link is up, one at a
 * time, each on disk before it goes. A message the peer refuses (CALLERROR or no answer) is tried
 * `attempts` times, waiting `retryIntervalS` × the attempts so far; then it is given up on
 * (dead-lettered) and the queue moves on. Time offline never counts as an attempt.
 */
export class TxSender<M extends OutgoingMessage, R> {
  readonly #o: TxSenderOptions<M, R>;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(options: TxSenderOptions<M, R>) {
    this.#o = options;
  }

  /** Sends what is queued, in order, while the link stays up; resolves when it stops for now. */
  drain(): Promise<void> {
    if (this.#running !== null) {
      // The running pass may already have decided to stop: it looks once more before it ends.
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#run();
    return this.#running;
  }

  async #run(): Promise<void> {
    try {
      do {
        this.#again = false;
        await this.#loop();
      } while (this.#again);
    } finally {
      this.#running = null;
    }
  }

  async #loop(): Promise<void> {
    const { outbox } = this.#o;
    while (outbox.head !== undefined && this.#o.canSend()) {
      // Only what is on disk goes out: a confirmation of a message the store never kept could
      // not stop it from being sent again after a crash.
      if (!(await outbox.persist())) return;
      const head = outbox.head;
      if (head === undefined) return;
      const wire = outbox.wireForm(head);
      if ('unsendable' in wire) {
        outbox.deadLetter(head, wire.unsendable);
        continue;
      }
      try {
        const response = await this.#o.send(head, wire.payload);
        await outbox.confirmed(head, response);
        this.#o.onConfirmed(head, response, wire.payload);
        // The answer is on disk before the next message goes: a crash can repeat only the one in flight.
        await outbox.written();
      } catch (err) {
        if (!this.#o.connected()) return; // offline: not an attempt
        const failures = head.failures + 1;
        if (!this.#o.isRefusal(err) || failures >= this.#o.attempts()) {
          outbox.deadLetter(head, err instanceof Error ? err.message : String(err));
          continue;
        }
        outbox.failed(head, failures);
        await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, this.#o.retryIntervalS() * 1000 * failures));
      }
    }
  }
}

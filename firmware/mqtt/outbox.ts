/** What an outgoing message is, for the choice of what to drop when the outbox is full. */
export type OutgoingKind = 'status' | 'reply' | 'other';

export interface Outgoing {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
  readonly kind: OutgoingKind;
}

/**
 * The messages waiting for the broker (CONTRACT §10: a slow or gone broker must not exhaust the
 * memory): at most `limit`, first in first out. When full, the oldest status goes first (a newer
 * one follows and is retained in its place), then the oldest other message; a command reply only
 * when nothing else is left to drop, which takes a broker that sends commands and never takes
 * the answers.
 */
export class Outbox {
  readonly #items: Outgoing[] = [];
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#items.length;
  }

  /** Queues `message`; returns the message dropped to make room, if one was. */
  push(message: Outgoing): Outgoing | null {
    let dropped: Outgoing | null = null;
    if (this.#items.length >= this.#limit) {
      const at =
        [this.#items.findIndex((m) => m.kind === 'status'), this.#items.findIndex((m) => m.kind === 'other'), 0].find((i) => i >= 0) ?? 0;
      dropped = this.#items.splice(at, 1)[0] ?? null;
    }
    this.#items.push(message);
    return dropped;
  }

  shift(): Outgoing | undefined {
    return this.#items.shift();
  }
}

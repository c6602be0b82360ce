import type { Clock } from '../../hal/clock.js';

export type EventKind = 'charging' | 'fault' | 'ocpp' | 'grid' | 'config' | 'access';

export interface BoxEvent {
  readonly seq: number;
  readonly time: string;
  readonly kind: EventKind;
  readonly text: string;
}

/** How many recent events are kept (in memory only; the log on stdout has everything). */
export const EVENT_RING_LENGTH = 200;

/** The recent events the web page lists: state changes, faults, OCPP link and transactions, grid operator limits, config changes, logins. */
export class EventRing {
  readonly #clock: Clock;
  readonly #events: BoxEvent[] = [];
  readonly #listeners = new Set<(event: BoxEvent) => void>();
  #seq = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  add(kind: EventKind, text: string): void {
    const event = { seq: ++this.#seq, time: new Date(this.#clock.now()).toISOString(), kind, text };
    this.#events.push(event);
    if (this.#events.length > EVENT_RING_LENGTH) this.#events.shift();
    for (const listener of this.#listeners) listener(event);
  }

  /** Oldest first. */
  list(): readonly BoxEvent[] {
    return [...this.#events];
  }

  onEvent(listener: (event: BoxEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

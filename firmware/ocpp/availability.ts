import type { Logger } from '../log.js';
import { ChangeSignal } from './boot-status.js';
import { AvailabilityStore, type Availability } from './model/availability-store.js';

export interface AvailabilityOptions {
  readonly log: Logger;
}

/**
 * The connector's availability (ChangeAvailability, OCPP 1.6 §5.2): in force at once (the status
 * follows), or Scheduled while a transaction runs and applied when it ends; kept across restarts.
 */
export class AvailabilityControl {
  readonly #o: AvailabilityOptions;
  #store: AvailabilityStore | null = null;
  #availability: Availability = 'Operative';
  #scheduled: Availability | null = null;
  readonly #changed = new ChangeSignal();

  constructor(options: AvailabilityOptions) {
    this.#o = options;
  }

  /** Reads the kept availability (`dataDir` null: not kept). */
  async load(dataDir: string | null): Promise<void> {
    this.#store = await AvailabilityStore.load(dataDir, this.#o.log);
    this.#availability = this.#store.availability;
  }

  get available(): boolean {
    return this.#availability === 'Operative';
  }

  /** Why the kept availability could not be read (Inoperative stands in for it); null when it could. */
  get lost(): string | null {
    return this.#store?.lost ?? null;
  }

  /** Calls `listener` each time the availability in force changes. */
  onChange(listener: () => void): () => void {
    return this.#changed.on(listener);
  }

  /** ChangeAvailability; Inoperative while a transaction runs waits for its end (Scheduled). */
  async change(type: Availability, transactionRunning: boolean): Promise<'Accepted' | 'Scheduled'> {
    if (type === 'Inoperative' && transactionRunning) {
      this.#scheduled = type;
      return 'Scheduled';
    }
    this.#scheduled = null;
    await this.#set(type);
    return 'Accepted';
  }

  /** No transaction any more: a scheduled change applies now, before any status goes out. */
  applyScheduled(): void {
    if (this.#scheduled === null) return;
    const type = this.#scheduled;
    this.#scheduled = null;
    void this.#set(type);
  }

  async #set(type: Availability): Promise<void> {
    const saved = this.#store?.set(type);
    this.#availability = type;
    this.#changed.emit();
    await saved;
  }
}

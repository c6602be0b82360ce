import { every, type Clock } from '../clock.js';
import type { MeterReading } from '../meter.js';

/** Told once when the meter stops answering and once when it answers again. */
export interface MeterReporter {
  warn(msg: string, fields: Record<string, unknown>): void;
  info(msg: string, fields: Record<string, unknown>): void;
}

/**
 * Polls a meter on its bus every `pollMs`: `latest` is the last good reading with its time; a
 * meter that stops answering keeps its last reading, whose age lets the supervision raise
 * meterLost (CONTRACT §6) while charging stays safe. A poll still running is not overtaken.
 */
export class MeterPoller {
  latest: MeterReading | null = null;
  readonly #read: () => Promise<MeterReading>;
  readonly #log: MeterReporter;
  #answering = true;
  #polling = false;
  readonly #stop: () => void;

  constructor(options: {
    readonly clock: Clock;
    readonly log: MeterReporter;
    readonly pollMs: number;
    readonly read: () => Promise<MeterReading>;
  }) {
    this.#read = options.read;
    this.#log = options.log;
    this.#stop = every(options.clock, options.pollMs, () => void this.poll());
  }

  async poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      this.latest = await this.#read();
      if (!this.#answering) this.#log.info('meter answers again', {});
      this.#answering = true;
    } catch (err) {
      if (this.#answering) this.#log.warn('meter does not answer', { reason: (err as Error).message });
      this.#answering = false;
    } finally {
      this.#polling = false;
    }
  }

  stop(): void {
    this.#stop();
  }
}

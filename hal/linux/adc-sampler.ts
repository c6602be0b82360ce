import type { Ads1115 } from './ads1115.js';

type Channel = 0 | 1 | 2 | 3;

/**
 * Keeps the ADC converting, one channel after the other, and the latest volts of each: the HAL's
 * reads (`sample()`, `resistanceOhm()`) are synchronous and must not wait for the I2C bus. The
 * fast channels are read every round, the slow ones (PP) every `slowEvery` rounds. At 860
 * samples/s a round of the two CP channels takes about 3 ms (two conversions of 1.16 ms and the
 * I2C transfers): CP is seen some 330 times a second, far inside the 100 ms of the contactor rule.
 */
export class AdcSampler {
  readonly #adc: Ads1115;
  readonly #fast: readonly Channel[];
  readonly #slow: readonly Channel[];
  readonly #slowEvery: number;
  readonly #volts = new Map<Channel, number>();
  #running = false;
  #loop: Promise<void> | null = null;
  #rounds = 0;
  /** Told when conversions start failing (the bus or the chip) and when they work again. */
  onHealth: ((err: Error | null) => void) | null = null;
  readonly #roundListeners = new Set<() => void>();
  #failing = false;

  constructor(
    adc: Ads1115,
    options: { readonly fast: readonly Channel[]; readonly slow?: readonly Channel[]; readonly slowEvery?: number },
  ) {
    this.#adc = adc;
    this.#fast = options.fast;
    this.#slow = options.slow ?? [];
    this.#slowEvery = options.slowEvery ?? 20;
  }

  /**
   * Volts last converted on `channel`; NaN while conversions fail. A stale pilot voltage could
   * hold state C after the car left: NaN reads as no valid state (F), and the contactor opens.
   */
  volts(channel: Channel): number {
    return this.#failing ? Number.NaN : (this.#volts.get(channel) ?? Number.NaN);
  }

  /**
   * Calls `listener` after every round of conversions, as soon as its volts are in (the pilot
   * driver looks for a change there instead of waiting for the control loop's next read).
   * Returns the unsubscribe function.
   */
  onRound(listener: () => void): () => void {
    this.#roundListeners.add(listener);
    return () => this.#roundListeners.delete(listener);
  }

  /** Rounds completed so far (for the sampling-rate figure). */
  get rounds(): number {
    return this.#rounds;
  }

  /** Converts each channel once (an ADC that does not answer is an error here), then keeps going in the background. */
  async start(): Promise<void> {
    for (const channel of [...this.#fast, ...this.#slow]) this.#volts.set(channel, await this.#adc.read(channel));
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) await this.#round();
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  async #round(): Promise<void> {
    const channels = this.#rounds % this.#slowEvery === 0 ? [...this.#fast, ...this.#slow] : this.#fast;
    for (const channel of channels) {
      try {
        this.#volts.set(channel, await this.#adc.read(channel));
        if (this.#failing) this.onHealth?.(null);
        this.#failing = false;
      } catch (err) {
        if (!this.#failing) this.onHealth?.(err as Error);
        this.#failing = true;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    this.#rounds += 1;
    for (const listener of this.#roundListeners) listener();
  }
}

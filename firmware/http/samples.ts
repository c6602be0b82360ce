import { every, type Clock } from '../../hal/clock.js';
import type { ChargingPort } from '../charging/port.js';

/** One point of the chart: time (epoch ms), the highest phase current, the power and the offer. */
export interface Sample {
  readonly t: number;
  readonly currentA: number;
  readonly powerW: number;
  readonly offeredA: number;
}

export const SAMPLE_PERIOD_MS = 10_000;
/** One hour of samples. */
export const SAMPLE_COUNT = 360;

/** Current and power of the last hour for the chart, one sample every 10 s, in memory. */
export class Samples {
  readonly #charging: ChargingPort;
  readonly #clock: Clock;
  readonly #samples: Sample[] = [];
  readonly #listeners = new Set<(sample: Sample) => void>();
  #stop: (() => void) | null = null;

  constructor(charging: ChargingPort, clock: Clock) {
    this.#charging = charging;
    this.#clock = clock;
  }

  start(): void {
    this.#take();
    this.#stop ??= every(this.#clock, SAMPLE_PERIOD_MS, () => this.#take());
  }

  stop(): void {
    this.#stop?.();
    this.#stop = null;
  }

  list(): readonly Sample[] {
    return [...this.#samples];
  }

  onSample(listener: (sample: Sample) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #take(): void {
    const sample = currentSample(this.#charging, this.#clock.now());
    this.#samples.push(sample);
    if (this.#samples.length > SAMPLE_COUNT) this.#samples.shift();
    for (const listener of this.#listeners) listener(sample);
  }
}

/** The chart's point for now (also sent with every live status). */
export function currentSample(charging: ChargingPort, nowMs: number): Sample {
  const status = charging.status();
  const meter = status.faults.some((f) => f.kind === 'meterLost') ? null : status.meter;
  const round1 = (x: number): number => Math.round(x * 10) / 10;
  return {
    t: nowMs,
    currentA: meter ? round1(Math.max(...meter.currentsA)) : 0,
    powerW: meter ? Math.round(meter.powerW) : 0,
    offeredA: status.offeredA,
  };
}

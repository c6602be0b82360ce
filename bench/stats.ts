/** Median and 99th percentile (nearest rank) of a set of samples. */
export interface Summary {
  readonly median: number;
  readonly p99: number;
  readonly samples: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  return { median: rank(0.5), p99: rank(0.99), samples: sorted.length };
}

/** Rounded for a report line: three significant decimals at most. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

import { readFileSync } from 'node:fs';
import { pollUntil } from '../test/helpers/firmware-process.js';
import { round, summarize } from './stats.js';

/** The bench's report lines and probes, shared by its parts. */

export const wallMs = (): number => performance.timeOrigin + performance.now();

/** One report line: {"name","value","unit"} and what goes beside it. */
export function emit(name: string, value: number | null, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ name, value: value === null ? null : round(value), unit, ...extra })}\n`);
}

export function emitSummary(name: string, samples: number[], unit: string, goal: string, extra: Record<string, unknown> = {}): void {
  const s = summarize(samples);
  emit(name, s.median, unit, { ...extra, p99: round(s.p99), samples: s.samples, goal });
}

/** Resident memory of a process, MB (Linux /proc). */
export function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

/** The sim view polled every 2 ms until `accept` takes it (the figures come from its timestamps, not from the polling). */
export function until(
  probe: () => Promise<Record<string, any>>,
  accept: (view: Record<string, any>) => boolean,
  timeoutMs: number,
): Promise<Record<string, any>> {
  return pollUntil(probe, accept, timeoutMs, 2);
}

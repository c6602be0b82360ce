import { join } from 'node:path';
import type { GridStatus } from '../charging/controller.js';
import type { Logger } from '../log.js';
import { isJsonObject, readStoredJson, writeFileAtomic } from '../store/atomic-file.js';

/** One activation of the grid operator's signal (§14a EnWG), as kept for the grid operator's records. */
export interface GridActivation {
  /** ISO 8601 times. */
  readonly start: string;
  /** Null while the signal is active. */
  readonly end: string | null;
  /** `grid.limitW` in force. */
  readonly limitW: number;
  /** The limits applied, A, in order: a phase switch under the limit changes it (6.0 on three phases → 18.2 on one). */
  readonly limitsA: readonly number[];
  /** What ended it: the signal, a clean stop of the firmware, or a start that found it still open (the process died). */
  readonly endedBy: 'signal' | 'stop' | 'restart' | null;
}

interface GridFile {
  activations: GridActivation[];
}

/** How many activations are kept (the oldest go first). */
export const ACTIVATIONS_KEPT = 100;
const FILE_NAME = 'grid-activations.json';

/**
 * The grid operator limit's evidence in `dataDir/grid-activations.json`: the last 100
 * activations with start, end and limit. Each change is written at once (atomic, one write after
 * the other); activations are rare, so this costs nothing.
 */
export class GridActivationLog {
  /** Null: kept in memory only. */
  readonly #path: string | null;
  readonly #log: Logger;
  #activations: GridActivation[] = [];
  #writing: Promise<void> = Promise.resolve();

  constructor(dataDir: string | null, log: Logger) {
    this.#path = dataDir === null ? null : join(dataDir, FILE_NAME);
    this.#log = log;
  }

  /**
   * Reads the stored activations. At the firmware's start one still open was cut by a process that
   * died, and ends now; `readOnly` (the export tool, possibly beside a running firmware) leaves it
   * open and writes nothing. Resolves once that end is on disk, so no write of this load outlives it.
   */
  async load(nowMs: number, options: { readOnly?: boolean } = {}): Promise<void> {
    if (this.#path === null) return;
    const stored = await readStoredJson(this.#path, { activations: [] }, isGridFile, this.#log);
    this.#activations = stored.activations.slice(-ACTIVATIONS_KEPT);
    if (this.current() !== null && options.readOnly !== true) this.#end(nowMs, 'restart');
    await this.flush();
  }

  /** Oldest first. */
  list(): readonly GridActivation[] {
    return this.#activations;
  }

  /** The activation in force, or null. */
  current(): GridActivation | null {
    const last = this.#activations.at(-1);
    return last !== undefined && last.end === null ? last : null;
  }

  /** The charging core's view of the signal changed: an activation starts, ends or applies another limit. */
  observe(grid: GridStatus | null, nowMs: number): void {
    const current = this.current();
    if (grid === null || !grid.active || grid.limitA === null) {
      if (current !== null) this.#end(nowMs, 'signal');
      return;
    }
    if (current === null) {
      const start = new Date(grid.sinceMs ?? nowMs).toISOString();
      this.#activations = [...this.#activations, { start, end: null, limitW: grid.limitW, limitsA: [grid.limitA], endedBy: null }].slice(
        -ACTIVATIONS_KEPT,
      );
      this.#log.info('grid operator limit activation recorded', { start, limitW: grid.limitW, limitA: grid.limitA });
      this.#persist();
      return;
    }
    if (current.limitsA.at(-1) === grid.limitA) return;
    this.#replaceCurrent({ ...current, limitsA: [...current.limitsA, grid.limitA] });
  }

  /** The firmware stops cleanly: an open activation ends with the stop; resolves once on disk. */
  async stop(nowMs: number): Promise<void> {
    if (this.current() !== null) this.#end(nowMs, 'stop');
    await this.flush();
  }

  /** Resolves once every change so far is on disk. */
  flush(): Promise<void> {
    return this.#writing;
  }

  /** The activations as JSON lines, oldest first (the installer's export). */
  jsonLines(): string {
    return this.#activations.map((a) => `${JSON.stringify(a)}\n`).join('');
  }

  #end(nowMs: number, endedBy: NonNullable<GridActivation['endedBy']>): void {
    const current = this.current();
    if (current === null) return;
    const end = new Date(nowMs).toISOString();
    this.#log.info('grid operator limit activation ended', { start: current.start, end, endedBy });
    this.#replaceCurrent({ ...current, end, endedBy });
  }

  #replaceCurrent(activation: GridActivation): void {
    this.#activations = [...this.#activations.slice(0, -1), activation];
    this.#persist();
  }

  #persist(): void {
    const path = this.#path;
    if (path === null) return;
    const text = JSON.stringify({ activations: this.#activations }, null, 1);
    this.#writing = this.#writing
      .then(() => writeFileAtomic(path, text))
      .catch((err: unknown) => this.#log.error('cannot save the grid operator activations', { err }));
  }
}

function isGridFile(stored: unknown): stored is GridFile {
  return isJsonObject<GridFile>(stored) && Array.isArray(stored.activations) && stored.activations.every(isActivation);
}

function isActivation(entry: unknown): entry is GridActivation {
  return (
    isJsonObject<Record<string, unknown>>(entry) &&
    typeof entry['start'] === 'string' &&
    (entry['end'] === null || typeof entry['end'] === 'string') &&
    typeof entry['limitW'] === 'number' &&
    Array.isArray(entry['limitsA'])
  );
}

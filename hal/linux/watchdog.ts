import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Watchdog } from '../watchdog.js';

export interface LinuxWatchdogOptions {
  /** The watchdog device. */
  readonly path?: string;
  /**
   * Writes closer together than this are skipped: the control loop runs every few ms, the
   * device's timeout is seconds, and each write is a system call.
   */
  readonly minFeedIntervalMs?: number;
}

/**
 * The kernel watchdog (`/dev/watchdog`). Opening it arms it; if no write comes within the
 * timeout the board resets, and relay outputs are wired so that an undriven pin means open.
 * `close()` writes the magic character 'V' first, so a clean stop does not reset the board.
 */
export class LinuxWatchdog implements Watchdog {
  readonly path: string;
  readonly #minFeedIntervalMs: number;
  #fd: number | null;
  #lastFeedMs = -Infinity;

  constructor(options: LinuxWatchdogOptions = {}) {
    this.path = options.path ?? '/dev/watchdog';
    this.#minFeedIntervalMs = options.minFeedIntervalMs ?? 100;
    try {
      this.#fd = openSync(this.path, constants.O_WRONLY); // never create: a missing device is an error
    } catch (err) {
      throw new Error(`watchdog: cannot open ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  feed(): void {
    if (this.#fd === null) return;
    const nowMs = performance.now();
    if (nowMs - this.#lastFeedMs < this.#minFeedIntervalMs) return;
    writeSync(this.#fd, '\0');
    this.#lastFeedMs = nowMs;
  }

  close(): void {
    if (this.#fd === null) return;
    writeSync(this.#fd, 'V');
    closeSync(this.#fd);
    this.#fd = null;
  }
}

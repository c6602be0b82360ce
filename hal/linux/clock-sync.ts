import { execFile } from 'node:child_process';
import type { Clock } from '../clock.js';
import type { Logger } from '../../firmware/log.js';

/** How often the OS is asked again whether its clock is synchronised. */
const CHECK_MS = 60_000;

/**
 * Whether the OS reports its clock synchronised (NTP): systemd's `timedatectl show -p
 * NTPSynchronized --value` (the kernel's adjtimex state, as timedatectl reads it), asked at start
 * and every minute. Until it answers "yes" the clock counts as not synchronised, and the central
 * system's time is used (CONTRACT §5).
 */
export class OsClockSync {
  #synced = false;
  #timer: ReturnType<Clock['setTimeout']> | null = null;
  #stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  get synced(): boolean {
    return this.#synced;
  }

  start(): void {
    this.#check();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #check(): void {
    execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 2000 }, (err, stdout) => {
      const synced = err === null && stdout.trim() === 'yes';
      if (synced !== this.#synced)
        this.log.info(synced ? 'system clock synchronised (NTP)' : 'system clock not synchronised', err ? { reason: err.message } : {});
      this.#synced = synced;
      if (!this.#stopped) this.#timer = this.clock.setTimeout(() => this.#check(), CHECK_MS);
    });
  }
}

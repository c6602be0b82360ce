import { once } from 'node:events';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { every, type Clock, type TimerHandle } from '../hal/clock.js';
import type { RfidReader } from '../hal/rfid-reader.js';
import type { Rs485Port, Rs485Settings } from '../hal/rs485-port.js';
import type { ChargingPortHost } from './charging/port-host.js';
import { STALE_AFTER_MS } from './charging/port.js';
import { LogFile } from './diagnostics/log-file.js';
import type { Logger, LogLevel } from './log.js';
import type { HealthReport } from './update/health.js';

/**
 * The protocol side (Modbus, OCPP, HTTP) runs in a worker thread with its own event loop and a
 * capped heap; the control side (board, charging core, watchdog) stays on the main thread. This
 * file is the main thread's link to that worker: it starts it, restarts it with backoff when it
 * ends, and carries what is not the charging port's business (cards, log lines, health, stop).
 * README "Process structure" gives the reasons.
 */

/**
 * The protocol side's heap cap: far above its normal use (about 20 MB), low enough that a leak or
 * a flood ends the worker long before the SoM's 512 MB run out. The control side is not affected.
 */
export const PROTOCOL_HEAP_MB = 128;
/**
 * Its young generation: short-lived objects (frames, replies) are collected more often in a small
 * one, which saves resident memory that every thread would otherwise hold (measured: about 7 MB
 * less RSS idle than Node's default).
 */
export const PROTOCOL_YOUNG_HEAP_MB = 4;
/** First wait before a restart; it doubles with every exit soon after a start, up to the maximum. */
export const RESTART_BACKOFF_MS = 1000;
export const RESTART_BACKOFF_MAX_MS = 30_000;
/**
 * A worker that sent nothing for this long (its event loop blocked: not even its alive message
 * every ALIVE_PERIOD_MS) is ended and restarted with the backoff above. Its inputs went stale at
 * STALE_AFTER_MS already; a stall of a few seconds (a long GC, a burst of work) is waited out.
 */
export const STALL_RESTART_MS = 10_000;
/** How often the main thread looks for a stalled worker. */
const STALL_CHECK_MS = 250;
/** A worker that ran this long before it ended is restarted after the first wait again. */
const STABLE_RUN_MS = 60_000;
/** Longest the main thread waits for the protocol side's clean stop (a running transaction, state saved). */
const STOP_TIMEOUT_MS = 15_000;
/** Lines kept for the log file while the worker (which owns it) is silent: posted when it speaks again or written here when it ends. */
export const LOG_BACKLOG_LINES = 200;
/** How often the board's clock synchronisation is looked at for the worker (the Linux board asks timedatectl once a minute). */
const CLOCK_SYNC_POLL_MS = 1000;

/** What the worker is started with. */
export interface ProtocolWorkerData {
  readonly configPath: string | undefined;
  readonly logLevel: LogLevel;
  readonly serialNumber: string;
  /** The RS-485 line the Modbus RTU slave serves (opened by the main thread); null without `modbus.rtu`. */
  readonly rs485: Rs485Settings | null;
  /** The board's meter signs readings (CONTRACT §9); the worker reaches it through the port. */
  readonly meterSigns: boolean;
  /** Whether the board's clock counts as NTP-synchronised at the worker's start (CONTRACT §5); changes follow as messages. */
  readonly clockSynced: boolean;
  /** The protocol side's end of the charging port. */
  readonly port: MessagePort;
}

/**
 * Test-only faults of the protocol side (WALLBOX_TEST_HOOK, main.ts): block its event loop busy
 * (`block`) or asleep (`hang`), crash it, run it out of memory.
 */
export type TestHook = { readonly hook: 'block' | 'hang'; readonly ms: number } | { readonly hook: 'crash' } | { readonly hook: 'oom' };

/** Main thread → worker. */
export type ToWorker =
  | { readonly type: 'card'; readonly idTag: string }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'rs485Data'; readonly bytes: Uint8Array }
  | { readonly type: 'rs485Opened'; readonly error: string | null }
  | { readonly type: 'checkUpdateResult' }
  | { readonly type: 'clockSynced'; readonly synced: boolean }
  | { readonly type: 'stop' }
  | ({ readonly type: 'testHook' } & TestHook);

/** Worker → main thread. */
export type FromWorker =
  | { readonly type: 'started' }
  | { readonly type: 'health'; readonly modbus: boolean; readonly ocpp: HealthReport['ocpp'] }
  | { readonly type: 'restart' }
  | { readonly type: 'rs485Open'; readonly fileDevice: boolean }
  | { readonly type: 'rs485Write'; readonly bytes: Uint8Array }
  | { readonly type: 'stopped' };

const FROM_WORKER_TYPES: ReadonlySet<unknown> = new Set<FromWorker['type']>([
  'started',
  'health',
  'restart',
  'rs485Open',
  'rs485Write',
  'stopped',
]);

function isFromWorker(message: unknown): message is FromWorker {
  return message !== null && typeof message === 'object' && FROM_WORKER_TYPES.has((message as { type?: unknown }).type);
}

export interface ProtocolWorkerOptions {
  /** The worker's script (dist/protocol-worker.mjs beside the firmware bundle). */
  readonly script: URL;
  readonly host: ChargingPortHost;
  readonly rfid: RfidReader;
  /**
   * The board's RS-485 port for the RTU slave. It is opened and read here, not in the worker: the
   * serialport addon's poller runs its callback on the main loop and aborts the process when the
   * port was opened in a worker. Bytes cross as messages (at most line speed).
   */
  readonly rs485: Rs485Port | null;
  /** `modbus.rtu` of the config file when the run-time overlay changed it: the device the RTU slave falls back to. */
  readonly rs485FileSettings?: Rs485Settings | null;
  readonly clock: Clock;
  readonly log: Logger;
  readonly data: Omit<ProtocolWorkerData, 'port' | 'clockSynced'>;
  /** The board's clock is NTP-synchronised (CONTRACT §5), read at each start of the worker and then every CLOCK_SYNC_POLL_MS. */
  readonly clockSynced: () => boolean;
  /** The protocol side asks for a restart of the firmware (an update was installed). */
  readonly onRestartRequest: () => void;
  /** The log file's folder (`dataDir/logs`): written here while no worker runs (after the stop, between restarts). */
  readonly logDir: string;
}

/** The main thread's handle on the protocol worker. */
export class ProtocolWorker {
  readonly #o: ProtocolWorkerOptions;
  readonly #log: Logger;
  #worker: Worker | null = null;
  #health: Omit<HealthReport, 'type' | 'version' | 'controlLoop'> | null = null;
  #backoffMs = RESTART_BACKOFF_MS;
  #restartTimer: TimerHandle | null = null;
  #stopping = false;
  #startedOnce = false;
  #rs485Open = false;
  readonly #backlog: string[] = [];
  /** The log file while no worker runs; closed before the next one starts (one writer at a time). */
  #directLog: LogFile | null = null;
  #clockSynced = false;
  #clockPoll: (() => void) | null = null;
  /** Resolves once the board and the control loop run (start()); a worker waits for it before it gets the port. */
  #coreRunning: Promise<void> = Promise.resolve();
  #stallCheck: (() => void) | null = null;
  /** When the current worker got the charging port; +Infinity before (it waits for the core: not silent). */
  #attachedAtMs = 0;
  /** The worker ended for a stall: terminated, its exit not seen yet. */
  #ending: Worker | null = null;

  constructor(options: ProtocolWorkerOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'protocol-worker' });
    options.rfid.onCard = (idTag) => {
      if (this.#worker === null || this.#o.host.stale) this.#log.warn('card not passed on: the protocol side is not running');
      else this.#post({ type: 'card', idTag });
    };
    if (options.rs485 !== null) {
      // A silent worker gets nothing: its queue must not grow with what a master sends meanwhile.
      options.rs485.onData = (bytes) => {
        if (!this.#o.host.stale) this.#post({ type: 'rs485Data', bytes });
      };
    }
  }

  /**
   * Starts the worker; resolves once the protocol side runs. A failure of this first start
   * rejects (the firmware exits, as a config error would); later ends restart the worker.
   * `coreRunning` (issue #21, start-up time): the worker is created at once, so that its modules
   * load and its config is read while the board and the control loop start, but it gets the
   * charging port and its requests (the RS-485 port) are served only once that resolves: the
   * protocol side never acts on a core that does not run yet.
   */
  start(coreRunning: Promise<void> = Promise.resolve()): Promise<void> {
    this.#coreRunning = coreRunning;
    this.#clockPoll ??= every(this.#o.clock, CLOCK_SYNC_POLL_MS, () => this.#pollClockSync());
    this.#stallCheck ??= every(this.#o.clock, STALL_CHECK_MS, () => this.#checkStall());
    return new Promise((resolve, reject) => this.#spawn(resolve, reject));
  }

  #pollClockSync(): void {
    const synced = this.#o.clockSynced();
    if (synced === this.#clockSynced) return;
    this.#clockSynced = synced;
    this.#post({ type: 'clockSynced', synced });
  }

  /** Ends a worker silent for STALL_RESTART_MS; its exit restarts it (with the backoff). */
  #checkStall(): void {
    const worker = this.#worker;
    if (worker === null || this.#stopping || this.#ending === worker) return;
    const silentMs = this.#o.clock.now() - Math.max(this.#o.host.lastHeardMs, this.#attachedAtMs);
    if (silentMs < STALL_RESTART_MS) return;
    this.#log.error('protocol side stalled: ending it', { silentMs, staleAfterMs: STALE_AFTER_MS });
    this.#ending = worker;
    void worker.terminate();
  }

  /** Modbus and OCPP health as the worker reported it last; down while it is not running. */
  health(): Omit<HealthReport, 'type' | 'version' | 'controlLoop'> {
    return this.#health ?? { modbus: false, ocpp: 'offline' };
  }

  /**
   * A line of the main thread's log for the log file: posted to the worker, which writes it; kept
   * (the last LOG_BACKLOG_LINES) while the worker is silent or not started yet; written here while
   * no worker runs after the first (between restarts, after the stop).
   */
  logLine(line: string): void {
    if (this.#worker === null && this.#startedOnce) {
      this.#writeHere(line);
    } else if (this.#o.host.stale) {
      this.#backlog.push(line);
      if (this.#backlog.length > LOG_BACKLOG_LINES) this.#backlog.shift();
    } else {
      for (const kept of this.#backlog.splice(0)) this.#post({ type: 'log', line: kept });
      this.#post({ type: 'log', line });
    }
  }

  /** Appends the kept lines, then `line`, to the log file from this thread (no worker runs). */
  #writeHere(line?: string): void {
    this.#directLog ??= new LogFile(this.#o.logDir);
    for (const kept of this.#backlog.splice(0)) this.#directLog.append(kept);
    if (line !== undefined) this.#directLog.append(line);
  }

  /** Closes the log file written here (at the very end, after the last line). */
  async closeLog(): Promise<void> {
    const file = this.#directLog;
    this.#directLog = null;
    await file?.close();
  }

  checkUpdateResult(): void {
    this.#post({ type: 'checkUpdateResult' });
  }

  testHook(hook: TestHook): void {
    this.#log.warn('test hook for the protocol side', { ...hook });
    this.#post({ type: 'testHook', ...hook });
  }

  /**
   * CONTRACT §1 for the protocol side: its clean stop (transaction ended with Reboot, state saved
   * with the clean-stop marker), then the worker ends. Resolves true when it did that; false when
   * no worker ran or it did not report its stop in time (the caller writes the marker then).
   */
  async stop(): Promise<boolean> {
    this.#stopping = true;
    this.#clockPoll?.();
    this.#stallCheck?.();
    if (this.#restartTimer !== null) this.#o.clock.clearTimeout(this.#restartTimer);
    const worker = this.#worker;
    if (worker === null) return false;
    const exited = once(worker, 'exit');
    const stopped = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS);
      worker.on('message', (message: unknown) => {
        if (isFromWorker(message) && message.type === 'stopped') {
          clearTimeout(timer);
          resolve(true);
        }
      });
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    this.#post({ type: 'stop' });
    const clean = await stopped;
    if (!clean) this.#log.error('the protocol side did not stop cleanly in time', { timeoutMs: STOP_TIMEOUT_MS });
    await worker.terminate();
    await exited;
    return clean;
  }

  /** Opened once and kept across worker restarts (the board closes it at the end). */
  async #openRs485(fileDevice: boolean): Promise<void> {
    let error: string | null = null;
    const fallback = this.#o.rs485FileSettings ?? null;
    if (this.#o.rs485 === null) error = 'no RS-485 port on this board';
    else if (fileDevice && fallback === null) error = 'the config file names no other RS-485 device';
    else if (!this.#rs485Open) {
      try {
        // The worker chooses only between the two devices the configs name, never a path of its own.
        await this.#o.rs485.open(fileDevice ? (fallback as Rs485Settings) : undefined);
        this.#rs485Open = true;
      } catch (err) {
        error = (err as Error).message;
      }
    }
    this.#post({ type: 'rs485Opened', error });
  }

  #post(message: ToWorker): void {
    this.#worker?.postMessage(message);
  }

  /** A restart: the log file written here meanwhile is closed first, so that the new worker is its only writer. */
  async #respawn(): Promise<void> {
    await this.closeLog();
    this.#spawn();
    // Lines logged while the file closed went to a new one: the worker is their writer now.
    await this.closeLog();
  }

  /** A message of `worker` (the current one or one that just ended), once the core runs. */
  #handle(worker: Worker, message: unknown, resolve?: () => void): void {
    if (!isFromWorker(message)) return;
    switch (message.type) {
      case 'started':
        this.#startedOnce = true;
        this.#log.info('protocol side running', { threadId: worker.threadId });
        for (const line of this.#backlog.splice(0)) this.#post({ type: 'log', line });
        resolve?.();
        return;
      case 'health':
        this.#health = { modbus: message.modbus, ocpp: message.ocpp };
        return;
      case 'restart':
        this.#o.onRestartRequest();
        return;
      case 'rs485Open':
        void this.#openRs485(message.fileDevice === true);
        return;
      case 'rs485Write':
        this.#o.rs485?.write(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
        return;
      case 'stopped':
        return;
      default: {
        const never: never = message;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  #spawn(resolve?: () => void, reject?: (err: Error) => void): void {
    this.#restartTimer = null;
    if (this.#stopping) return;
    const channel = new MessageChannel();
    this.#clockSynced = this.#o.clockSynced();
    const data: ProtocolWorkerData = { ...this.#o.data, clockSynced: this.#clockSynced, port: channel.port2 };
    const worker = new Worker(this.#o.script, {
      workerData: data,
      transferList: [channel.port2],
      resourceLimits: { maxOldGenerationSizeMb: PROTOCOL_HEAP_MB, maxYoungGenerationSizeMb: PROTOCOL_YOUNG_HEAP_MB },
    });
    const startedAtMs = this.#o.clock.now();
    // A board that takes long to start does not make its worker look stalled (STALL_RESTART_MS).
    this.#attachedAtMs = Number.POSITIVE_INFINITY;
    this.#worker = worker;
    // The port's messages wait in it until the host listens; the worker's own wait in `coreRunning`
    // (its callbacks run in order: the port is attached before the first of them is handled).
    const coreRunning = this.#coreRunning;
    void coreRunning.then(() => {
      if (this.#worker !== worker) return;
      // The board may know its clock's state only now that it runs (the Linux board asks timedatectl).
      this.#pollClockSync();
      this.#attachedAtMs = this.#o.clock.now();
      this.#o.host.attach(channel.port1);
    });
    let failure: Error | null = null;
    worker.on('message', (message: unknown) => void coreRunning.then(() => this.#handle(worker, message, resolve)));
    worker.on('error', (err) => {
      failure = err;
      this.#log.error('protocol side failed', { err, code: (err as NodeJS.ErrnoException).code ?? null });
    });
    worker.on('exit', (code) => {
      this.#worker = null;
      if (this.#ending === worker) this.#ending = null;
      // What was kept while it was silent goes to the file from here.
      if (this.#startedOnce && this.#backlog.length > 0) this.#writeHere();
      this.#health = null;
      this.#o.host.detach();
      channel.port1.close();
      if (this.#stopping) return;
      if (!this.#startedOnce) {
        reject?.(failure ?? new Error(`the protocol side ended with code ${code} before it ran`));
        return;
      }
      if (this.#o.clock.now() - startedAtMs >= STABLE_RUN_MS) this.#backoffMs = RESTART_BACKOFF_MS;
      this.#log.error('protocol side ended; restarting it', { code, restartInMs: this.#backoffMs });
      this.#restartTimer = this.#o.clock.setTimeout(() => void this.#respawn(), this.#backoffMs);
      this.#backoffMs = Math.min(this.#backoffMs * 2, RESTART_BACKOFF_MAX_MS);
    });
  }
}

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor, type Clock, type TimerHandle } from '../../hal/clock.js';
import type { Logger } from '../log.js';
import { downloadToFile, safeLocation, withRetries } from '../transfer/http-transfer.js';
import type { InstallDir, TrialState, UpdateOrigin, UpdateResult } from './install-dir.js';
import { ImageRejected, openSignedImage, type VerifiedImage } from './signed-image.js';

/**
 * Where an update stands. The names are OCPP's (1.6 FirmwareStatus and the security extension's
 * FirmwareStatusEnumType); each operation maps them to what its notification allows.
 */
export type FirmwareUpdateStatus =
  | 'Idle'
  | 'DownloadScheduled'
  | 'Downloading'
  | 'Downloaded'
  | 'DownloadFailed'
  | 'InvalidSignature'
  | 'SignatureVerified'
  | 'InstallScheduled'
  | 'Installing'
  | 'InstallRebooting'
  | 'Installed'
  | 'InstallationFailed';

/**
 * Sends one status to whoever asked; resolves once it has been delivered (or given up on). A final
 * result reported after the restart carries the request's id (its operation's report of the live
 * statuses knows it already).
 */
export type FirmwareStatusReport = (status: FirmwareUpdateStatus, detail?: string, requestId?: number) => Promise<void>;

export interface UpdateRequest {
  readonly location: string;
  /** When to start the download (clock ms); now or in the past: at once. */
  readonly retrieveAtMs: number;
  /** Download attempts after the first. */
  readonly retries: number;
  readonly retryIntervalS: number;
  /** Who asked (e.g. "UpdateFirmware"); the final result after the restart goes back to them. */
  readonly origin: UpdateOrigin;
  /** The request's id, kept through the restart for the final status. */
  readonly requestId?: number;
  /** Checks the downloaded file; by default the signed image against the key inside the running image. */
  readonly verify?: (file: string) => Promise<VerifiedImage>;
}

export interface FirmwareUpdaterOptions {
  /** The install folder; null when the firmware does not run from an installed image (then nothing is installed). */
  readonly installDir: InstallDir | null;
  /** Where downloads go (`dataDir/update`). */
  readonly workDir: string;
  /** PEM of the Ed25519 key images must be signed with (shipped in the running image); null: none, every image is refused. */
  readonly publicKeyPem: string | null;
  readonly runningVersion: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** No car connected and no transaction: the only time an install may start. */
  readonly idle: () => boolean;
  /** Ends this process cleanly so the launcher starts the version now in `current`. */
  readonly restart: () => void;
  readonly downloadTimeoutMs?: number;
  readonly maxImageBytes?: number;
}

/** How often a waiting install looks whether the car has gone. */
const IDLE_CHECK_MS = 1000;

/**
 * Firmware updates: download at the retrieve date with retries, check the signed image, wait
 * until no car is connected, unpack it into the other slot, switch and restart. The launcher
 * (launcher.ts) then gives the new version its trial; the result (Installed, or
 * InstallationFailed after a rollback) is kept in the install folder and reported by whichever
 * version runs next, through `deliverResults`.
 */
export class FirmwareUpdater {
  readonly #o: FirmwareUpdaterOptions;
  readonly #log: Logger;
  #status: FirmwareUpdateStatus = 'Idle';
  #generation = 0;
  #timer: TimerHandle | null = null;
  readonly #resultReports = new Map<UpdateOrigin, FirmwareStatusReport>();
  #resultCheck: Promise<void> = Promise.resolve();

  constructor(options: FirmwareUpdaterOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'update' });
  }

  /** The status of the update in progress; Idle when there is none. */
  get status(): FirmwareUpdateStatus {
    return this.#status;
  }

  /** Schedules an update; it replaces one that has not started installing yet. */
  update(request: UpdateRequest, report: FirmwareStatusReport): void {
    if (this.#status === 'Installing' || this.#status === 'InstallRebooting') {
      this.#log.warn('update ignored: another one is installing', { location: safeLocation(request.location) });
      return;
    }
    const generation = ++this.#generation;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    const delayMs = Math.max(0, request.retrieveAtMs - this.#o.clock.now());
    this.#log.info('firmware update scheduled', {
      location: safeLocation(request.location),
      inS: Math.round(delayMs / 1000),
      retries: request.retries,
      retryIntervalS: request.retryIntervalS,
    });
    this.#status = 'DownloadScheduled';
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null;
      void this.#run(request, generation, report).catch((err: unknown) => this.#log.error('firmware update failed', { err }));
    }, delayMs);
  }

  /**
   * Who reports the outcome of updates started by `origin` once this process runs (the new version
   * reports Installed, the old one after a rollback InstallationFailed). Checks for a result now.
   */
  deliverResults(origin: UpdateOrigin, report: FirmwareStatusReport): void {
    this.#resultReports.set(origin, report);
    void this.checkResult();
  }

  /**
   * Reports a stored result to its origin (at start, and when the launcher says it committed one).
   * Checks run one after the other: each operation's registration starts one, and two at once
   * would both find the result before it is cleared.
   */
  checkResult(): Promise<void> {
    this.#resultCheck = this.#resultCheck
      .then(() => this.#reportResult())
      .catch((err: unknown) => this.#log.error('update result not reported', { err }));
    return this.#resultCheck;
  }

  async #reportResult(): Promise<void> {
    const installDir = this.#o.installDir;
    if (installDir === null) return;
    const result: UpdateResult | null = await installDir.readResult();
    if (result === null) return;
    const report = this.#resultReports.get(result.origin);
    if (report === undefined) return;
    this.#log.info('firmware update result', {
      status: result.status,
      version: result.version,
      ...(result.reason !== undefined && { reason: result.reason }),
    });
    await installDir.clearResult();
    await report(result.status, result.reason, result.requestId);
  }

  /** Cancels a scheduled update (the process is stopping). */
  stop(): void {
    this.#generation++;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #run(request: UpdateRequest, generation: number, report: FirmwareStatusReport): Promise<void> {
    const current = (): boolean => generation === this.#generation;
    const set = async (status: FirmwareUpdateStatus, detail?: string, nowIdle = false): Promise<void> => {
      if (current()) this.#status = nowIdle ? 'Idle' : status;
      this.#log.info('firmware update', { status, ...(detail !== undefined && { detail }) });
      await report(status, detail);
    };
    // A final status: the updater is Idle again before it is reported (a TriggerMessage right after says so).
    const finish = (status: FirmwareUpdateStatus, detail: string): Promise<void> => set(status, detail, true);
    const file = join(this.#o.workDir, `firmware-${generation}.download`);
    await mkdir(this.#o.workDir, { recursive: true });
    await set('Downloading');
    try {
      const bytes = await withRetries(
        () =>
          downloadToFile(request.location, file, {
            timeoutMs: this.#o.downloadTimeoutMs ?? 600_000,
            maxBytes: this.#o.maxImageBytes ?? 256 * 1024 * 1024,
          }),
        request,
        this.#o.clock,
        (attempt, err) => this.#log.warn('firmware download failed', { attempt, of: request.retries + 1, reason: err.message }),
      );
      this.#log.info('firmware downloaded', { bytes });
    } catch (err) {
      await rm(file, { force: true });
      return finish('DownloadFailed', (err as Error).message);
    }
    if (!current()) return;
    await set('Downloaded');
    let verified: VerifiedImage;
    try {
      verified = await (request.verify ?? ((path) => this.openImage(path)))(file);
    } catch (err) {
      const invalidSignature = err instanceof ImageRejected && err.reason === 'InvalidSignature';
      return finish(invalidSignature ? 'InvalidSignature' : 'InstallationFailed', (err as Error).message);
    } finally {
      await rm(file, { force: true });
    }
    await set('SignatureVerified', verified.manifest.version);
    const installDir = this.#o.installDir;
    if (installDir === null) return finish('InstallationFailed', 'the firmware does not run from an installed image');
    // Unpacking into the other slot does not touch the running version: it is done at once; only
    // the switch waits for the car to go.
    let trial: TrialState;
    try {
      const fromSlot = await installDir.pointer('current');
      if (fromSlot === null) throw new Error(`no current slot in ${installDir.root}`);
      const toSlot = await installDir.stage(verified.image);
      trial = {
        version: verified.manifest.version,
        fromSlot,
        toSlot,
        origin: request.origin,
        ...(request.requestId !== undefined && { requestId: request.requestId }),
        attempts: 0,
        switchedAt: '',
      };
    } catch (err) {
      return finish('InstallationFailed', `staging failed: ${(err as Error).message}`);
    }
    if (!current()) return;
    if (!this.#o.idle()) await set('InstallScheduled', 'waiting until no car is connected');
    await this.#waitUntilIdle(current);
    if (!current()) return;
    await set('Installing', verified.manifest.version);
    // The notification may have taken a while: a car that came meanwhile is waited for too.
    await this.#waitUntilIdle(current);
    if (!current()) return;
    try {
      await installDir.switchTo({ ...trial, switchedAt: new Date(this.#o.clock.now()).toISOString() });
    } catch (err) {
      return finish('InstallationFailed', `switch failed: ${(err as Error).message}`);
    }
    this.#log.warn('firmware switched; restarting into the new version', { version: trial.version, slot: trial.toSlot });
    this.#status = 'InstallRebooting';
    this.#o.restart();
  }

  #waitUntilIdle(current: () => boolean): Promise<boolean> {
    return waitFor(this.#o.clock, () => this.#o.idle() || !current(), Number.POSITIVE_INFINITY, IDLE_CHECK_MS);
  }

  /** The signed image in `file`, checked against the key inside the running image (every update's last check). */
  async openImage(file: string): Promise<VerifiedImage> {
    if (this.#o.publicKeyPem === null) throw new ImageRejected('InvalidSignature', 'no update key in the running image');
    return openSignedImage(file, this.#o.publicKeyPem, this.#o.runningVersion);
  }
}

import { access, mkdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isJsonObject, readStoredJson, removeStore, saveFile, writeFileAtomic, type StoreReporter } from '../store/atomic-file.js';

/**
 * The firmware's install folder (`/opt/wallbox` on the SoM): two slots, each a whole unpacked
 * image, and two pointers, relative symlinks swapped by one rename each:
 *
 *   slots/a, slots/b   the images
 *   current -> slots/x the version the launcher runs
 *   good -> slots/x    the last version that came up healthy; systemd runs *its* launcher, so the
 *                      code deciding a rollback is never the version on trial
 *   trial.json         a switched-to version that has not proven healthy yet
 *   result.json        the outcome of the last update, until it has been reported over OCPP
 */

export const SLOTS = ['a', 'b'] as const;
export type SlotName = (typeof SLOTS)[number];

/** Which kind of request started an update: reported back by that request's operation. */
export type UpdateOrigin = string;

export interface TrialState {
  readonly version: string;
  readonly fromSlot: SlotName;
  readonly toSlot: SlotName;
  readonly origin: UpdateOrigin;
  /** The request's id, when its operation has one (SignedUpdateFirmware): the final status names it. */
  readonly requestId?: number;
  /** Starts of the new version so far (a power loss during the trial counts one). */
  readonly attempts: number;
  readonly switchedAt: string;
}

export type InstallOutcome = 'Installed' | 'InstallationFailed';

export interface UpdateResult {
  readonly status: InstallOutcome;
  readonly version: string;
  readonly origin: UpdateOrigin;
  readonly requestId?: number;
  readonly reason?: string;
  readonly at: string;
}

function isSlot(value: unknown): value is SlotName {
  return value === 'a' || value === 'b';
}

export class InstallDir {
  constructor(
    readonly root: string,
    readonly log: StoreReporter,
  ) {}

  slotDir(slot: SlotName): string {
    return join(this.root, 'slots', slot);
  }

  /** The slot a pointer (`current` or `good`) names; null when it is missing or foreign. */
  async pointer(name: 'current' | 'good'): Promise<SlotName | null> {
    const target = await readlink(join(this.root, name)).catch(() => null);
    const slot = target?.replace(/^slots\//, '');
    return isSlot(slot) ? slot : null;
  }

  /** Points `name` at `slot` in one rename (a crash leaves the old or the new pointer). */
  async setPointer(name: 'current' | 'good', slot: SlotName): Promise<void> {
    const temp = join(this.root, `.${name}.${process.pid}.tmp`);
    await rm(temp, { force: true });
    await symlink(`slots/${slot}`, temp);
    await rename(temp, join(this.root, name));
  }

  /**
   * Unpacks a verified image (`image.tar.gz`, one top folder) into the slot that is neither
   * running nor the last good one, and returns it. The running slot is never touched.
   */
  async stage(image: Buffer): Promise<SlotName> {
    const running = await this.pointer('current');
    // The other slot holds the version to roll back to until the running one has proved healthy.
    if (running !== (await this.pointer('good'))) throw new Error('the running version is still on trial');
    const slot: SlotName = running === 'a' ? 'b' : 'a';
    const dir = this.slotDir(slot);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    // tar refuses absolute paths and `..` (preservePaths is off).
    const { extract } = await import('tar'); // on first use (issue #21)
    await pipeline(Readable.from([image]), extract({ cwd: dir, strip: 1, strict: true }));
    for (const file of ['firmware.mjs', 'protocol-worker.mjs', 'launcher.mjs']) await access(join(dir, file));
    return slot;
  }

  /** The trial is written before the pointer flips: a crash in between leaves the old version running and the trial discarded. */
  async switchTo(trial: TrialState): Promise<void> {
    await this.writeTrial(trial);
    await this.setPointer('current', trial.toSlot);
  }

  async readTrial(): Promise<TrialState | null> {
    const isTrial = (s: unknown): s is TrialState | null =>
      s === null || (isJsonObject<TrialState>(s) && isSlot(s.fromSlot) && isSlot(s.toSlot) && typeof s.attempts === 'number');
    return readStoredJson<TrialState | null>(join(this.root, 'trial.json'), null, isTrial, this.log);
  }

  async writeTrial(trial: TrialState): Promise<void> {
    await writeFileAtomic(join(this.root, 'trial.json'), JSON.stringify(trial));
  }

  /** The version on trial came up healthy: it becomes the good one. */
  async commit(trial: TrialState, at: string): Promise<void> {
    await this.setPointer('good', trial.toSlot);
    await this.#finish({
      status: 'Installed',
      version: trial.version,
      origin: trial.origin,
      ...(trial.requestId !== undefined && { requestId: trial.requestId }),
      at,
    });
  }

  /** The version on trial did not come up healthy: the pointer goes back to the version it replaced. */
  async rollBack(trial: TrialState, reason: string, at: string): Promise<void> {
    await this.setPointer('current', trial.fromSlot);
    await this.#finish({
      status: 'InstallationFailed',
      version: trial.version,
      origin: trial.origin,
      ...(trial.requestId !== undefined && { requestId: trial.requestId }),
      reason,
      at,
    });
  }

  async #finish(result: UpdateResult): Promise<void> {
    await this.writeResult(result);
    await removeStore(join(this.root, 'trial.json'));
  }

  async writeResult(result: UpdateResult): Promise<void> {
    await saveFile(join(this.root, 'result.json'), JSON.stringify(result), this.log);
  }

  async readResult(): Promise<UpdateResult | null> {
    const isResult = (s: unknown): s is UpdateResult | null =>
      s === null || (isJsonObject<UpdateResult>(s) && (s.status === 'Installed' || s.status === 'InstallationFailed'));
    return readStoredJson<UpdateResult | null>(join(this.root, 'result.json'), null, isResult, this.log);
  }

  async clearResult(): Promise<void> {
    await removeStore(join(this.root, 'result.json'));
  }
}

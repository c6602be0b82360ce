import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import type { Logger } from '../../log.js';
import { readStoredJson, saveFile } from '../../store/atomic-file.js';
import { checkPayload } from '../schemas.js';
import { matchesClear, replacedBy, type ClearCriteria, type InstalledProfile } from './charging-profile.js';

const FILE = 'ocpp-charging-profiles.json';

/**
 * The installed charging profiles, kept in `dataDir` so they survive a restart. Only
 * SetChargingProfile (replacing), ClearChargingProfile, the end of a TxProfile's transaction and
 * turning OCPP off change them.
 */
export class ProfileStore {
  readonly #path: string | null;
  readonly #log: Logger;
  #profiles: readonly InstalledProfile[];

  private constructor(path: string | null, profiles: readonly InstalledProfile[], log: Logger) {
    this.#path = path;
    this.#log = log;
    this.#profiles = profiles;
  }

  /**
   * The stored profiles. TxProfiles are dropped: their transaction did not survive the restart.
   * A file that is not a list of valid profiles is set aside and reported.
   */
  static async load(dataDir: string | null, log: Logger): Promise<ProfileStore> {
    const path = dataDir === null ? null : join(dataDir, FILE);
    if (path === null) return new ProfileStore(null, [], log);
    const stored = await readStoredJson(path, [], isProfileList, log);
    const store = new ProfileStore(path, stored, log);
    if (stored.some(isTxProfile)) await store.#save(stored.filter((e) => !isTxProfile(e)));
    return store;
  }

  /** OCPP is off in the config: its profiles must not come back when it is turned on again. */
  static async remove(dataDir: string): Promise<void> {
    await rm(join(dataDir, FILE), { force: true });
  }

  get profiles(): readonly InstalledProfile[] {
    return this.#profiles;
  }

  /** Installs `entry` in place of the profiles it replaces. */
  async install(entry: InstalledProfile): Promise<void> {
    await this.#save([...this.#profiles.filter((existing) => !replacedBy(existing, entry)), entry]);
  }

  /** Removes the profiles ClearChargingProfile selects; how many. */
  async clear(criteria: ClearCriteria): Promise<number> {
    return this.#remove((e) => matchesClear(e, criteria));
  }

  /** The transaction ended: its TxProfiles end with it. */
  async transactionEnded(): Promise<number> {
    return this.#remove(isTxProfile);
  }

  async #remove(selected: (entry: InstalledProfile) => boolean): Promise<number> {
    const kept = this.#profiles.filter((e) => !selected(e));
    const removed = this.#profiles.length - kept.length;
    if (removed > 0) await this.#save(kept);
    return removed;
  }

  /** In force at once (the limit must follow without waiting for the disk), then written. */
  async #save(profiles: readonly InstalledProfile[]): Promise<void> {
    this.#profiles = profiles;
    if (this.#path !== null) await saveFile(this.#path, JSON.stringify(profiles), this.#log);
  }
}

function isTxProfile(entry: InstalledProfile): boolean {
  return entry.profile.chargingProfilePurpose === 'TxProfile';
}

/** Stored entries are checked with the same official schema as the SetChargingProfile that brought them. */
function isProfileList(stored: unknown): stored is InstalledProfile[] {
  return (
    Array.isArray(stored) &&
    stored.every((e: Partial<InstalledProfile> | null) => checkPayload('SetChargingProfile', 'Request', { connectorId: e?.connectorId, csChargingProfiles: e?.profile }) === null)
  );
}

import { Type, type Static } from '@sinclair/typebox';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import { readStore, removeStore, saveFile } from '../../store/atomic-file.js';
import { MIN_CURRENT_A } from '../../charging/duty.js';
import { checkPayload } from '../schemas.js';
import { matchesClear, replacedBy, type ChargingProfile, type ClearCriteria, type InstalledProfile } from './charging-profile.js';
import { storedCheck } from './stored-check.js';

const FILE = 'ocpp-charging-profiles.json';

/**
 * The most the car is offered while the stored profiles could not be read, until the central
 * system sends profiles again: the lowest current a car charges with (IEC 61851-1), so a lost
 * ChargePointMaxProfile is never exceeded unless it was below that (CONTRACT §6: never raised).
 */
export const LOST_PROFILES_LIMIT_A = MIN_CURRENT_A;

/** An installed profile; the profile itself is checked by the official schema of SetChargingProfile (`isProfileFile`). */
const EntrySchema = Type.Object({ connectorId: Type.Integer(), profile: Type.Unsafe<ChargingProfile>({ type: 'object' }) });

/**
 * The file: an object, so that a bare `[]` (a damage that looks like "no profiles") is the wrong
 * type; a bare list holding a profile is what versions before the `{ profiles }` file wrote.
 */
const ProfileFileSchema = Type.Union([
  Type.Object({
    profiles: Type.Array(EntrySchema),
    /** Set while the profiles count as lost (kept, so the cap survives a restart). */
    lost: Type.Optional(Type.String()),
  }),
  Type.Array(EntrySchema, { minItems: 1 }),
]);
type StoredProfiles = Static<typeof ProfileFileSchema>;
type ProfileFile = Exclude<StoredProfiles, unknown[]>;

const isProfileFileShape = storedCheck(ProfileFileSchema);

/**
 * The installed charging profiles, kept in `dataDir` so they survive a restart. Only
 * SetChargingProfile (replacing), ClearChargingProfile, the end of a TxProfile's transaction and
 * turning OCPP off change them.
 */
export class ProfileStore {
  readonly #path: string | null;
  readonly #log: Logger;
  #profiles: readonly InstalledProfile[];
  #lost: string | null;

  private constructor(path: string | null, profiles: readonly InstalledProfile[], lost: string | null, log: Logger) {
    this.#path = path;
    this.#log = log;
    this.#profiles = profiles;
    this.#lost = lost;
  }

  /**
   * The stored profiles. TxProfiles are dropped: their transaction did not survive the restart.
   * A file that cannot be read is set aside and reported, and the profiles count as lost: the
   * previous generation's (if readable) stay in force, capped at LOST_PROFILES_LIMIT_A until the
   * central system installs a profile again.
   */
  static async load(dataDir: string | null, log: Logger): Promise<ProfileStore> {
    const path = dataDir === null ? null : join(dataDir, FILE);
    if (path === null) return new ProfileStore(null, [], null, log);
    const { value, damaged } = await readStore<StoredProfiles>(path, { profiles: [] }, isProfileFile, log);
    if (damaged !== null)
      log.error('charging profiles unreadable: the offer is capped until the central system sends profiles again', {
        path,
        limitA: LOST_PROFILES_LIMIT_A,
      });
    const stored = Array.isArray(value) ? value : value.profiles;
    const lost = damaged ?? (Array.isArray(value) ? null : (value.lost ?? null));
    const store = new ProfileStore(path, stored, lost, log);
    if (stored.some(isTxProfile) || damaged !== null) await store.#save(stored.filter((e) => !isTxProfile(e)));
    return store;
  }

  /** Why the stored profiles were lost at boot (null: they were not, or the central system has sent profiles since). */
  get lost(): string | null {
    return this.#lost;
  }

  /** The cap while the profiles are lost (null: none). */
  get lostLimitA(): number | null {
    return this.#lost === null ? null : LOST_PROFILES_LIMIT_A;
  }

  /** OCPP is off in the config: its profiles must not come back when it is turned on again. */
  static async remove(dataDir: string): Promise<void> {
    await removeStore(join(dataDir, FILE));
  }

  get profiles(): readonly InstalledProfile[] {
    return this.#profiles;
  }

  /** Installs `entry` in place of the profiles it replaces. */
  async install(entry: InstalledProfile): Promise<void> {
    if (this.#lost !== null) this.#log.info('the central system sent a charging profile: the cap for lost profiles ends');
    this.#lost = null;
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
    const file: ProfileFile = { profiles: [...profiles], ...(this.#lost !== null && { lost: this.#lost }) };
    if (this.#path !== null) await saveFile(this.#path, JSON.stringify(file), this.#log);
  }
}

function isTxProfile(entry: InstalledProfile): boolean {
  return entry.profile.chargingProfilePurpose === 'TxProfile';
}

/** The stored file, each entry checked with the same official schema as the SetChargingProfile that brought it. */
function isProfileFile(stored: unknown): stored is StoredProfiles {
  if (!isProfileFileShape(stored)) return false;
  const entries = Array.isArray(stored) ? stored : stored.profiles;
  return entries.every(
    (e) => checkPayload('SetChargingProfile', 'Request', { connectorId: e.connectorId, csChargingProfiles: e.profile }) === null,
  );
}

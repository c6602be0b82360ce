import { Type, type Static } from '@sinclair/typebox';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import { readStore, saveFile } from '../../store/atomic-file.js';
import { storedCheck } from './stored-check.js';

const AvailabilitySchema = Type.Union([Type.Literal('Operative'), Type.Literal('Inoperative')]);
export type Availability = Static<typeof AvailabilitySchema>;

/** `dataDir/ocpp-availability.json`; `lost` while Inoperative stands in for an availability that could not be read. */
const AvailabilityFileSchema = Type.Object({ availability: Type.Optional(AvailabilitySchema), lost: Type.Optional(Type.String()) });
type AvailabilityFile = Static<typeof AvailabilityFileSchema>;

const isAvailabilityFile = storedCheck(AvailabilityFileSchema);

const FILE = 'ocpp-availability.json';

/**
 * The connector's availability (ChangeAvailability), kept across restarts (OCPP 1.6 §5.2). One
 * that cannot be read back is Inoperative until the central system sets it (CONTRACT §6), also
 * across restarts: the safe side is written back with the reason (`lost`).
 */
export class AvailabilityStore {
  readonly #path: string | null;
  readonly #log: Logger;
  #availability: Availability;
  #lost: string | null;

  private constructor(path: string | null, availability: Availability, lost: string | null, log: Logger) {
    this.#path = path;
    this.#availability = availability;
    this.#lost = lost;
    this.#log = log;
  }

  static async load(dataDir: string | null, log: Logger): Promise<AvailabilityStore> {
    if (dataDir === null) return new AvailabilityStore(null, 'Operative', null, log);
    const path = join(dataDir, FILE);
    const { value, damaged } = await readStore<AvailabilityFile>(path, {}, isAvailabilityFile, log);
    if (damaged === null) return new AvailabilityStore(path, value.availability ?? 'Operative', value.lost ?? null, log);
    log.error('availability unreadable: Inoperative until ChangeAvailability sets it', { path, reason: damaged });
    const store = new AvailabilityStore(path, 'Inoperative', damaged, log);
    await store.#save();
    return store;
  }

  get availability(): Availability {
    return this.#availability;
  }

  /** Why the stored availability was lost (null: it was not, or it has been set since). */
  get lost(): string | null {
    return this.#lost;
  }

  /** Set by the central system: in force at once, then written (a disk that refuses is logged). */
  async set(availability: Availability): Promise<void> {
    this.#availability = availability;
    this.#lost = null;
    await this.#save();
  }

  async #save(): Promise<void> {
    if (this.#path === null) return;
    const file: AvailabilityFile = { availability: this.#availability, ...(this.#lost !== null && { lost: this.#lost }) };
    await saveFile(this.#path, JSON.stringify(file), this.#log);
  }
}

import { join } from 'node:path';
import type { Logger } from '../../log.js';
import { Type } from '@sinclair/typebox';
import { readStoredJson, saveFile } from '../../store/atomic-file.js';
import { storedCheck } from './stored-check.js';

export type AuthorizationStatus = 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'ConcurrentTx';

/** OCPP 1.6 IdTagInfo. */
export interface IdTagInfo {
  readonly status: AuthorizationStatus;
  readonly expiryDate?: string;
  readonly parentIdTag?: string;
}

interface Stored {
  listVersion: number;
  list: Record<string, IdTagInfo>;
  cache: Record<string, IdTagInfo>;
}

const IdTagInfoSchema = Type.Object({
  status: Type.Union([
    Type.Literal('Accepted'),
    Type.Literal('Blocked'),
    Type.Literal('Expired'),
    Type.Literal('Invalid'),
    Type.Literal('ConcurrentTx'),
  ]),
  expiryDate: Type.Optional(Type.String()),
  parentIdTag: Type.Optional(Type.String()),
});
/** `dataDir/ocpp-authorization.json`: the local list (with its version) and the cache. */
const StoredSchema = Type.Object({
  listVersion: Type.Integer(),
  list: Type.Record(Type.String(), IdTagInfoSchema),
  cache: Type.Record(Type.String(), IdTagInfoSchema),
});
/** The file read back from disk, through its schema. */
const isStored = storedCheck(StoredSchema);

export interface ListUpdate {
  readonly idTag: string;
  /** Absent in a differential update: remove the entry. */
  readonly idTagInfo?: IdTagInfo;
}

/**
 * The local authorisation list (SendLocalList / GetLocalListVersion) and the authorisation cache
 * (every IdTagInfo the central system sent), both kept in `dataDir` (OCPP 1.6 §3.5).
 */
export class AuthorizationStore {
  readonly #path: string | null;
  readonly #log: Logger;
  #data: Stored;

  private constructor(path: string | null, data: Stored, log: Logger) {
    this.#path = path;
    this.#data = data;
    this.#log = log;
  }

  static async load(dataDir: string | null, log: Logger): Promise<AuthorizationStore> {
    const path = dataDir === null ? null : join(dataDir, 'ocpp-authorization.json');
    const empty: Stored = { listVersion: 0, list: {}, cache: {} };
    const data = path === null ? empty : await readStoredJson(path, empty, isStored, log);
    return new AuthorizationStore(path, data, log);
  }

  get listVersion(): number {
    return this.#data.listVersion;
  }

  /** The entry of `idTag` in the local list, then in the cache (when enabled); expired entries count as Expired. */
  lookup(idTag: string, options: { listEnabled: boolean; cacheEnabled: boolean; nowMs: number }): IdTagInfo | null {
    const found =
      (options.listEnabled ? this.#data.list[idTag] : undefined) ?? (options.cacheEnabled ? this.#data.cache[idTag] : undefined);
    if (!found) return null;
    if (found.expiryDate && Date.parse(found.expiryDate) < options.nowMs) return { ...found, status: 'Expired' };
    return found;
  }

  /** Remembers what the central system said about `idTag` (Authorize, StartTransaction, StopTransaction). */
  async remember(idTag: string, info: IdTagInfo): Promise<void> {
    this.#data = { ...this.#data, cache: { ...this.#data.cache, [idTag]: info } };
    await this.#save();
  }

  async clearCache(): Promise<void> {
    this.#data = { ...this.#data, cache: {} };
    await this.#save();
  }

  /** SendLocalList: a full list replaces, a differential one adds, changes and removes entries. */
  async updateList(
    version: number,
    type: 'Full' | 'Differential',
    entries: readonly ListUpdate[],
  ): Promise<'Accepted' | 'VersionMismatch'> {
    if (type === 'Differential' && version <= this.#data.listVersion) return 'VersionMismatch';
    const list = type === 'Full' ? {} : { ...this.#data.list };
    for (const { idTag, idTagInfo } of entries) {
      if (idTagInfo) list[idTag] = idTagInfo;
      else delete list[idTag];
    }
    // OCPP 1.6 §5.10: version 0 means the list is empty.
    this.#data = { ...this.#data, list, listVersion: Object.keys(list).length === 0 ? 0 : version };
    await this.#save();
    this.#log.info('local authorisation list updated', { version, type, entries: Object.keys(list).length });
    return 'Accepted';
  }

  async #save(): Promise<void> {
    if (this.#path !== null) await saveFile(this.#path, JSON.stringify(this.#data), this.#log);
  }
}

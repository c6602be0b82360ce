import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import type { Logger } from './log.js';
import { getKey, parseConfig, withKey, type Config } from './config.js';
import { isJsonObject, readStore, saveFile, writeFileAtomic } from './store/atomic-file.js';

/** One run-time change: the value, and the file's value it overrode. */
interface OverlayEntry {
  readonly value: unknown;
  readonly fileValue: unknown;
}

/**
 * CONTRACT §2: values changed at run time (Modbus 8040/8081, OCPP ChangeConfiguration, the web
 * interface) are kept in `dataDir` and win over the config file until the installer changes that
 * key in the file. The file stays the installer's; the firmware never rewrites it.
 */
export class ConfigOverlay {
  readonly #path: string;
  readonly #fileConfig: Config;
  #entries: Record<string, OverlayEntry>;
  #config: Config;
  /** Why the stored overlay could not be read at boot (null: it could); cleared by the next change kept. */
  #damaged: string | null = null;

  private constructor(path: string, fileConfig: Config, entries: Record<string, OverlayEntry>, config: Config) {
    this.#path = path;
    this.#fileConfig = fileConfig;
    this.#entries = entries;
    this.#config = config;
  }

  get damaged(): string | null {
    return this.#damaged;
  }

  /** Reads the overlay of `fileConfig.dataDir` and merges what still applies. */
  static async load(fileConfig: Config, log: Logger): Promise<ConfigOverlay> {
    const path = join(fileConfig.dataDir, 'config-overlay.json');
    const { value: stored, damaged } = await readStore(path, {}, isJsonObject<Record<string, OverlayEntry | null>>, log);
    if (damaged !== null)
      log.error('run-time config unreadable: the config file applies (or the previous generation of the overlay)', {
        path,
        reason: damaged,
      });
    const entries: Record<string, OverlayEntry> = {};
    let config = fileConfig;
    for (const [key, entry] of Object.entries(stored)) {
      if (entry === null || typeof entry !== 'object' || !('value' in entry)) {
        log.warn('ignoring a malformed run-time config entry', { key });
        continue;
      }
      if (!isDeepStrictEqual(getKey(fileConfig, key) ?? null, entry.fileValue)) {
        log.info('config file changed a key set at run time; the file wins', { key });
        continue;
      }
      try {
        config = parseConfig(withKey(config, key, entry.value));
        entries[key] = entry;
      } catch (err) {
        log.warn('ignoring an invalid run-time config value', { key, reason: (err as Error).message });
      }
    }
    // Entries that lost to the file are dropped for good: changing the file back later must
    // not revive them.
    if (Object.keys(entries).length !== Object.keys(stored).length) await saveFile(path, JSON.stringify(entries, null, 2), log);
    const overlay = new ConfigOverlay(path, fileConfig, entries, config);
    overlay.#damaged = damaged;
    return overlay;
  }

  /** The file's config with the overlay applied. */
  get config(): Config {
    return this.#config;
  }

  /** Sets a key at run time after checking the whole config; throws a ConfigError naming the key. */
  async set(key: string, value: unknown): Promise<Config> {
    const config = parseConfig(withKey(this.#config, key, value));
    const entries = { ...this.#entries, [key]: { value, fileValue: getKey(this.#fileConfig, key) ?? null } };
    await writeFileAtomic(this.#path, JSON.stringify(entries, null, 2));
    this.#entries = entries;
    this.#config = config;
    this.#damaged = null;
    return config;
  }
}

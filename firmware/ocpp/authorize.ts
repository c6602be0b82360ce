import type { Clock } from '../../hal/clock.js';
import type { Logger } from '../log.js';
import type { AuthorizationStore, IdTagInfo } from './model/authorization.js';
import type { OcppConfiguration } from './model/configuration.js';
import { authorize } from './operations/Authorize.js';
import type { OcppRpc } from './rpc.js';

/** What the offline rules decide by (CONTRACT §5). */
export interface OfflineCase {
  readonly idTag: string;
  /** `ocpp.fixedIdTag` ("" = none). */
  readonly fixedIdTag: string;
  /** The idTag's entry in the local list or cache; null when unknown there. */
  readonly local: IdTagInfo | null;
  readonly localAuthorizeOffline: boolean;
  readonly allowOfflineTxForUnknownId: boolean;
}

/**
 * Offline authorisation (CONTRACT §5): the fixed idTag counts as authorised; known tags as
 * LocalAuthorizeOffline allows (a blocked or expired one never); unknown ones as
 * AllowOfflineTxForUnknownId allows.
 */
export function offlineAuthorization(c: OfflineCase): IdTagInfo {
  if (c.idTag === c.fixedIdTag) return { status: 'Accepted' };
  if (c.local !== null) {
    if (c.local.status !== 'Accepted') return c.local;
    return c.localAuthorizeOffline ? c.local : { status: 'Invalid' };
  }
  return c.allowOfflineTxForUnknownId ? { status: 'Accepted' } : { status: 'Invalid' };
}

export interface AuthorizerOptions {
  readonly rpc: OcppRpc;
  readonly configuration: Pick<OcppConfiguration, 'flag'>;
  readonly authorization: AuthorizationStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly fixedIdTag: string;
  /** The backend answers (Boot accepted and the link up). */
  readonly online: () => boolean;
}

/** Authorisation of an idTag: the local list and cache first when allowed, the backend when online, the offline rules otherwise. */
export class Authorizer {
  readonly #o: AuthorizerOptions;
  /** The last idTag authorised for a start and its group (parentIdTag), for the transaction it starts. */
  #lastStart: { readonly idTag: string; readonly parentIdTag: string | null } | null = null;

  constructor(options: AuthorizerOptions) {
    this.#o = options;
  }

  /** The idTag's entry in the local list or cache, as the configuration lets them count. */
  local(idTag: string): IdTagInfo | null {
    const { configuration, authorization, clock } = this.#o;
    return authorization.lookup(idTag, {
      listEnabled: configuration.flag('LocalAuthListEnabled'),
      cacheEnabled: configuration.flag('AuthorizationCacheEnabled'),
      nowMs: clock.now(),
    });
  }

  async authorize(idTag: string): Promise<IdTagInfo> {
    const { configuration } = this.#o;
    const local = this.local(idTag);
    if (this.#o.online()) {
      if (configuration.flag('LocalPreAuthorize') && local?.status === 'Accepted') return local;
      try {
        const info = await authorize(this.#o, idTag);
        await this.remember(idTag, info);
        return info;
      } catch (err) {
        this.#o.log.warn('Authorize failed; offline rules apply', { reason: (err as Error).message });
      }
    }
    return offlineAuthorization({
      idTag,
      fixedIdTag: this.#o.fixedIdTag,
      local,
      localAuthorizeOffline: configuration.flag('LocalAuthorizeOffline'),
      allowOfflineTxForUnknownId: configuration.flag('AllowOfflineTxForUnknownId'),
    });
  }

  /** Authorisation of an idTag that is to start a transaction: an accepted one's group is remembered for it. */
  async authorizeStart(idTag: string): Promise<IdTagInfo> {
    const info = await this.authorize(idTag);
    if (info.status === 'Accepted') this.#lastStart = { idTag, parentIdTag: info.parentIdTag ?? null };
    return info;
  }

  /** The group (parentIdTag) of `idTag` as its last authorisation for a start gave it; null: none known. */
  groupOf(idTag: string): string | null {
    return this.#lastStart?.idTag === idTag ? this.#lastStart.parentIdTag : null;
  }

  /**
   * The group of a card presented during another card's transaction (OCPP 1.6 §3.5.3): from the
   * local list or cache when it is known there, else by Authorize; null when not accepted.
   */
  async parentOf(idTag: string): Promise<string | null> {
    const local = this.local(idTag);
    const info = local?.status === 'Accepted' ? local : await this.authorize(idTag);
    return info.status === 'Accepted' ? (info.parentIdTag ?? null) : null;
  }

  /** Into the authorisation cache; a cache that cannot be written is logged, never fatal. */
  async remember(idTag: string, info: IdTagInfo): Promise<void> {
    if (!this.#o.configuration.flag('AuthorizationCacheEnabled')) return;
    await this.#o.authorization
      .remember(idTag, info)
      .catch((err: unknown) => this.#o.log.error('authorisation cache not saved', { reason: (err as Error).message }));
  }
}

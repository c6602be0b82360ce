import type { Clock } from '../../hal/clock.js';
import type { Logger } from '../log.js';
import type { AuthorizationStore, IdTagInfo } from './model/authorization.js';
import type { OcppConfiguration } from './model/configuration.js';
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
        const response = await this.#o.rpc.call('Authorize', { idTag });
        await this.remember(idTag, response.idTagInfo);
        return response.idTagInfo;
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

  /** Into the authorisation cache; a cache that cannot be written is logged, never fatal. */
  async remember(idTag: string, info: IdTagInfo): Promise<void> {
    if (!this.#o.configuration.flag('AuthorizationCacheEnabled')) return;
    await this.#o.authorization
      .remember(idTag, info)
      .catch((err: unknown) => this.#o.log.error('authorisation cache not saved', { reason: (err as Error).message }));
  }
}

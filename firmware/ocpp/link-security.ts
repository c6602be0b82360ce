import type { X509Certificate } from 'node:crypto';
import type { Logger } from '../log.js';
import type { LinkFailure, LinkTarget } from './connection.js';
import { caPems, readTlsMaterial, targetOf, type TlsMaterial } from './link-target.js';
import type { CertificateStore } from './model/certificate-store.js';
import type { ChangeResult, OcppConfiguration } from './model/configuration.js';
import { authorizationKeyProblem, profileOf, raiseRefusal, type SecurityProfile } from './model/security-profile.js';
import { readRaisedProfile, saveRaisedProfile } from './model/security-profile-store.js';
import type { SecurityEvents, SecurityEventType } from './security-events.js';
import { parsedCertificates } from './x509.js';

/** The `ocpp` config keys the link is made of. */
export interface LinkSettings {
  readonly url: string;
  readonly password: string;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly insecureTls: boolean;
}

/** Failed attempts with a new profile or key before the link goes back to the old one. */
const TRIAL_ATTEMPTS = 3;

/**
 * The security event a failed attempt amounts to, if any. A TLS alert reaches us through the HTTP
 * request as EPROTO with OpenSSL's text, so the text counts as much as the code.
 */
export function securityEventOf(failure: LinkFailure): SecurityEventType | null {
  if (failure.httpStatus === 401 || failure.httpStatus === 403) return 'FailedToAuthenticateAtCentralSystem';
  const said = `${failure.code ?? ''} ${failure.reason}`;
  if (
    /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|WRONG_VERSION_NUMBER|alert protocol version|unsupported protocol|wrong version number/i.test(
      said,
    )
  )
    return 'InvalidTLSVersion';
  if (/HANDSHAKE_FAILURE|NO_SHARED_CIPHER|NO_CIPHERS|alert handshake failure|no shared cipher/i.test(said)) return 'InvalidTLSCipherSuite';
  if (/CERT|ALTNAME|ISSUER|SELF_SIGNED|LEAF_SIGNATURE/.test(failure.code ?? '')) return 'InvalidCentralSystemCertificate';
  return null;
}

interface Trial {
  readonly previous: { readonly profile: SecurityProfile; readonly password: string; readonly target: LinkTarget };
  readonly what: string;
  readonly commit: () => Promise<void>;
  failures: number;
}

export interface LinkSecurityOptions {
  readonly settings: LinkSettings;
  readonly certificates: CertificateStore;
  /** Where a raised profile is kept; null = not kept. */
  readonly dataDir: string | null;
  /** Keeps a new AuthorizationKey (the config overlay's `ocpp.password`). */
  readonly saveAuthorizationKey: (key: string) => Promise<void>;
  readonly log: Logger;
  /** The host clock TLS checks certificate dates against (tests set it back). */
  readonly hostClockMs?: () => number;
}

/** The security profile as read before the charge point is built (`LinkSecurity.load`): the files of its first target read too. */
export interface LoadedLinkSecurity {
  readonly options: LinkSecurityOptions;
  readonly fileProfile: SecurityProfile;
  readonly profile: SecurityProfile;
  readonly material: TlsMaterial | null;
  /** The central system certificate is not verified: TLS with ocpp.insecureTls. */
  readonly insecureTls: boolean;
}

/** What the link security works with in the charge point, built before it. */
export interface LinkSecurityServices {
  /** Where it reports the security events of the link. */
  readonly events: Pick<SecurityEvents, 'report'>;
  /** It owns the keys SecurityProfile and AuthorizationKey. */
  readonly configuration: Pick<OcppConfiguration, 'own'>;
  /** OCPP time now in ms, null while not known (certificate dates are checked only against a known time). */
  readonly knownTimeMs: () => number | null;
}

/** Where the link is told to connect with a new target; `why` null: at the next attempt, without dropping the link. */
export type RetargetListener = (target: LinkTarget, why: string | null) => void;

/**
 * The security profile of the OCPP link and what it connects with: the URL's scheme, Basic auth,
 * the CA certificates and the client certificate. It owns the SecurityProfile and AuthorizationKey
 * keys: a change is tried on a new connection and kept only once that connection opens; after
 * TRIAL_ATTEMPTS failed attempts the link goes back to what worked. The link follows its target
 * through `onRetarget`.
 */
export class LinkSecurity {
  readonly #o: LinkSecurityOptions;
  readonly #services: LinkSecurityServices;
  readonly #log: Logger;
  readonly #fileProfile: SecurityProfile;
  #profile: SecurityProfile;
  #password: string;
  #target: LinkTarget;
  readonly #retargetListeners = new Set<RetargetListener>();
  #trial: Trial | null = null;
  /** Security events already reported for the failures since the link was last up. */
  readonly #reported = new Set<SecurityEventType>();

  /** Builds the link security from what `load` read; reports an unverified central system at once. */
  constructor(loaded: LoadedLinkSecurity, services: LinkSecurityServices) {
    const options = loaded.options;
    this.#o = options;
    this.#services = services;
    this.#log = options.log.child({ module: 'ocpp' });
    this.#fileProfile = loaded.fileProfile;
    this.#profile = loaded.profile;
    this.#password = options.settings.password;
    this.#target = this.#assemble(loaded.profile, this.#password, loaded.material);
    services.configuration.own('SecurityProfile', { value: () => String(this.profile), change: (value) => this.#raise(value) });
    // Write-only: GetConfiguration lists the key without a value.
    services.configuration.own('AuthorizationKey', { value: () => undefined, change: (value) => this.#changeKey(value) });
    if (loaded.insecureTls)
      services.events.report('InvalidCentralSystemCertificate', 'ocpp.insecureTls: the central system certificate is not verified');
  }

  /** The profile from the config and what the central system raised, and the files of its target; a file that cannot be read is a ConfigError. */
  static async load(options: LinkSecurityOptions): Promise<LoadedLinkSecurity> {
    const { settings } = options;
    const fileProfile = profileOf({
      url: settings.url,
      password: settings.password,
      clientCertificate: settings.certFile !== undefined && settings.keyFile !== undefined,
    });
    const profile = (await readRaisedProfile(options.dataDir, fileProfile, options.log)) ?? fileProfile;
    const material = await readTlsMaterial(options, profile);
    return { options, fileProfile, profile, material, insecureTls: material?.fromFiles.rejectUnauthorized === false };
  }

  get profile(): SecurityProfile {
    return this.#profile <= 1 ? (this.#password !== '' ? 1 : 0) : this.#profile;
  }

  /** What the link connects with now. */
  get target(): LinkTarget {
    return this.#target;
  }

  /** Calls `listener` each time the link must connect with another target. */
  onRetarget(listener: RetargetListener): () => void {
    this.#retargetListeners.add(listener);
    return () => this.#retargetListeners.delete(listener);
  }

  /** The link opened: a change on trial is kept, and failures are reported afresh next time. */
  async linkOpened(): Promise<void> {
    this.#reported.clear();
    if (this.#profile >= 2) await this.#o.certificates.dropFallbackRoots();
    const trial = this.#trial;
    if (trial === null) return;
    this.#trial = null;
    await trial.commit();
    this.#services.events.report('ReconfigurationOfSecurityParameters', trial.what);
  }

  /** An attempt with `target` failed before the link opened. */
  linkFailed(failure: LinkFailure, target: LinkTarget): void {
    const event = securityEventOf(failure);
    if (event !== null && !this.#reported.has(event)) {
      this.#reported.add(event);
      this.#services.events.report(event, failure.reason);
    }
    const trial = this.#trial;
    // An attempt with the old target still under way when the trial began does not count.
    if (trial === null || target !== this.#target) return;
    trial.failures += 1;
    if (trial.failures < TRIAL_ATTEMPTS) return;
    this.#trial = null;
    this.#profile = trial.previous.profile;
    this.#password = trial.previous.password;
    this.#target = trial.previous.target;
    this.#log.warn('security change failed; back to what worked', { change: trial.what, attempts: trial.failures, reason: failure.reason });
    this.#retarget(this.#target, 'security change fell back');
  }

  /** New certificates (a root, a charge point certificate): the next connection uses them. */
  async certificatesChanged(): Promise<void> {
    this.#target = await this.#targetFor(this.#profile, this.#password);
    this.#retarget(this.#target, null);
  }

  /** The CA certificates a central system certificate may chain to: ocpp.caFile and the installed central system roots. */
  async centralSystemRoots(): Promise<X509Certificate[]> {
    return parsedCertificates(await caPems(this.#o));
  }

  /** Whether a central system root may go: not the last one a TLS link depends on. */
  mayDeleteCentralSystemRoot(): boolean {
    return (
      this.#profile < 2 || this.#o.settings.caFile !== undefined || this.#o.certificates.pems('CentralSystemRootCertificate').length > 1
    );
  }

  #retarget(target: LinkTarget, why: string | null): void {
    for (const listener of this.#retargetListeners) listener(target, why);
  }

  async #raise(value: string): Promise<ChangeResult> {
    const { certificates, settings } = this.#o;
    const refusal = raiseRefusal(this.profile, value, {
      authorizationKey: this.#password !== '',
      centralSystemRoot: settings.caFile !== undefined || certificates.pems('CentralSystemRootCertificate').length > 0,
      clientCertificate: certificates.chargePoint !== null || (settings.certFile !== undefined && settings.keyFile !== undefined),
    });
    if (refusal !== null) {
      this.#log.warn('SecurityProfile change rejected', { requested: value, reason: refusal });
      return 'Rejected';
    }
    const profile = Number(value) as SecurityProfile;
    const from = this.profile;
    return this.#try(`SecurityProfile ${from} -> ${profile}`, profile, this.#password, () =>
      saveRaisedProfile(this.#o.dataDir, { profile, fileProfile: this.#fileProfile }, this.#log),
    );
  }

  async #changeKey(value: string): Promise<ChangeResult> {
    const problem = authorizationKeyProblem(value);
    if (problem !== null) {
      this.#log.warn('AuthorizationKey change rejected', { reason: problem });
      return 'Rejected';
    }
    // Profile 3 does not use Basic auth: the key is kept for a later profile, nothing to try.
    if (this.#profile === 3) {
      await this.#o.saveAuthorizationKey(value);
      this.#password = value;
      this.#services.events.report('ReconfigurationOfSecurityParameters', 'AuthorizationKey');
      return 'Accepted';
    }
    return this.#try('AuthorizationKey', this.#profile, value, () => this.#o.saveAuthorizationKey(value));
  }

  /** Accepted now; after the answer is out, the link reconnects with the change on trial. */
  async #try(what: string, profile: SecurityProfile, password: string, commit: () => Promise<void>): Promise<ChangeResult> {
    if (this.#trial !== null) {
      this.#log.warn('security change rejected: another one is on trial', { change: what, onTrial: this.#trial.what });
      return 'Rejected';
    }
    let target: LinkTarget;
    try {
      target = await this.#targetFor(profile, password);
    } catch (err) {
      this.#log.warn('security change rejected', { change: what, reason: (err as Error).message });
      return 'Rejected';
    }
    this.#trial = { previous: { profile: this.#profile, password: this.#password, target: this.#target }, what, commit, failures: 0 };
    this.#profile = profile;
    this.#password = password;
    this.#target = target;
    this.#log.info('security change on trial', { change: what });
    setImmediate(() => this.#retarget(target, what));
    return 'Accepted';
  }

  async #targetFor(profile: SecurityProfile, password: string): Promise<LinkTarget> {
    return this.#assemble(profile, password, await readTlsMaterial(this.#o, profile));
  }

  #assemble(profile: SecurityProfile, password: string, material: TlsMaterial | null): LinkTarget {
    const clock = { hostMs: this.#o.hostClockMs ?? Date.now, knownTimeMs: () => this.#services.knownTimeMs() };
    return targetOf(this.#o, profile, password, material, clock, this.#log);
  }
}

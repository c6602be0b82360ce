import type { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { isJsonObject, readStoredJson, saveFile } from '../store/atomic-file.js';
import type { LinkFailure, LinkTarget, OcppConnection } from './connection.js';
import type { CertificateStore } from './model/certificate-store.js';
import type { ChangeResult, OcppConfiguration } from './model/configuration.js';
import { authorizationKeyProblem, profileOf, raiseRefusal, urlFor, type SecurityProfile } from './model/security-profile.js';
import type { SecurityEvents, SecurityEventType } from './security-events.js';
import { ocppTlsOptions, verifiedConnection, type OcppTlsOptions } from './tls.js';
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

/** A raised profile, kept with the profile the config file gave when it was raised: a changed file wins again. */
interface StoredProfile {
  readonly profile: SecurityProfile;
  readonly fileProfile: SecurityProfile;
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

/**
 * The security profile of the OCPP link and what it connects with: the URL's scheme, Basic auth,
 * the CA certificates and the client certificate. It owns the SecurityProfile and AuthorizationKey
 * keys: a change is tried on a new connection and kept only once that connection opens; after
 * TRIAL_ATTEMPTS failed attempts the link goes back to what worked.
 */
export class LinkSecurity {
  readonly #o: LinkSecurityOptions;
  readonly #log: Logger;
  readonly #fileProfile: SecurityProfile;
  #profile: SecurityProfile;
  #password: string;
  #target: LinkTarget;
  #connection: Pick<OcppConnection, 'retarget'> | null = null;
  #events: SecurityEvents | null = null;
  #trial: Trial | null = null;
  #knownTimeMs: () => number | null = () => null;
  /** Security events already reported for the failures since the link was last up. */
  readonly #reported = new Set<SecurityEventType>();

  private constructor(options: LinkSecurityOptions, fileProfile: SecurityProfile, profile: SecurityProfile, target: LinkTarget) {
    this.#o = options;
    this.#log = options.log.child({ module: 'ocpp' });
    this.#fileProfile = fileProfile;
    this.#profile = profile;
    this.#password = options.settings.password;
    this.#target = target;
  }

  /** The profile and target from the config and what the central system raised; a file that cannot be read is a ConfigError. */
  static async load(options: LinkSecurityOptions): Promise<LinkSecurity> {
    const { settings, dataDir } = options;
    const fileProfile = profileOf({
      url: settings.url,
      password: settings.password,
      clientCertificate: settings.certFile !== undefined && settings.keyFile !== undefined,
    });
    const stored =
      dataDir === null
        ? null
        : await readStoredJson<StoredProfile | null>(join(dataDir, 'ocpp-security.json'), null, isStoredProfile, options.log);
    const profile = stored !== null && stored.fileProfile === fileProfile && stored.profile > fileProfile ? stored.profile : fileProfile;
    const link = new LinkSecurity(options, fileProfile, profile, { url: settings.url, password: settings.password });
    link.#target = await link.#targetFor(profile, settings.password);
    return link;
  }

  get profile(): SecurityProfile {
    return this.#profile <= 1 ? (this.#password !== '' ? 1 : 0) : this.#profile;
  }

  /** What the link connects with now. */
  get target(): LinkTarget {
    return this.#target;
  }

  /** Wires the link it steers, the events it reports, the keys it owns and the OCPP time (null while not known). */
  attach(
    connection: Pick<OcppConnection, 'retarget'>,
    events: SecurityEvents,
    configuration: OcppConfiguration,
    knownTimeMs: () => number | null,
  ): void {
    this.#connection = connection;
    this.#events = events;
    this.#knownTimeMs = knownTimeMs;
    configuration.own('SecurityProfile', { value: () => String(this.profile), change: (value) => this.#raise(value) });
    // Write-only: GetConfiguration lists the key without a value.
    configuration.own('AuthorizationKey', { value: () => undefined, change: (value) => this.#changeKey(value) });
    if (this.#target.tls?.rejectUnauthorized === false)
      events.report('InvalidCentralSystemCertificate', 'ocpp.insecureTls: the central system certificate is not verified');
  }

  /** The link opened: a change on trial is kept, and failures are reported afresh next time. */
  async linkOpened(): Promise<void> {
    this.#reported.clear();
    if (this.#profile >= 2) await this.#o.certificates.dropFallbackRoots();
    const trial = this.#trial;
    if (trial === null) return;
    this.#trial = null;
    await trial.commit();
    this.#events?.report('ReconfigurationOfSecurityParameters', trial.what);
  }

  /** An attempt with `target` failed before the link opened. */
  linkFailed(failure: LinkFailure, target: LinkTarget): void {
    const event = securityEventOf(failure);
    if (event !== null && !this.#reported.has(event)) {
      this.#reported.add(event);
      this.#events?.report(event, failure.reason);
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
    this.#connection?.retarget(this.#target, 'security change fell back');
  }

  /** New certificates (a root, a charge point certificate): the next connection uses them. */
  async certificatesChanged(): Promise<void> {
    this.#target = await this.#targetFor(this.#profile, this.#password);
    this.#connection?.retarget(this.#target, null);
  }

  /** The CA certificates a central system certificate may chain to: ocpp.caFile and the installed central system roots. */
  async centralSystemRoots(): Promise<X509Certificate[]> {
    return parsedCertificates(await this.#caPems());
  }

  /** Whether a central system root may go: not the last one a TLS link depends on. */
  mayDeleteCentralSystemRoot(): boolean {
    return (
      this.#profile < 2 || this.#o.settings.caFile !== undefined || this.#o.certificates.pems('CentralSystemRootCertificate').length > 1
    );
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
    return this.#try(`SecurityProfile ${from} -> ${profile}`, profile, this.#password, () => this.#saveProfile(profile));
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
      this.#events?.report('ReconfigurationOfSecurityParameters', 'AuthorizationKey');
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
    setImmediate(() => this.#connection?.retarget(target, what));
    return 'Accepted';
  }

  async #saveProfile(profile: SecurityProfile): Promise<void> {
    if (this.#o.dataDir === null) return;
    const stored: StoredProfile = { profile, fileProfile: this.#fileProfile };
    await saveFile(join(this.#o.dataDir, 'ocpp-security.json'), JSON.stringify(stored), this.#log);
  }

  async #targetFor(profile: SecurityProfile, password: string): Promise<LinkTarget> {
    const url = urlFor(this.#o.settings.url, profile);
    // Profile 3 authenticates with the certificate alone.
    const basic = profile === 3 ? '' : password;
    if (profile < 2) return { url, password: basic };
    return { url, password: basic, tls: await this.#tlsFor(profile) };
  }

  /** ocpp.caFile's certificates and the installed central system roots, as PEM. */
  async #caPems(): Promise<string[]> {
    const { settings, certificates } = this.#o;
    const { ca } = await ocppTlsOptions({
      insecureTls: settings.insecureTls,
      ...(settings.caFile !== undefined && { caFile: settings.caFile }),
    });
    return [...(typeof ca === 'string' ? [ca] : []), ...certificates.pems('CentralSystemRootCertificate')];
  }

  async #tlsFor(profile: SecurityProfile): Promise<OcppTlsOptions> {
    const { settings, certificates } = this.#o;
    const clientFiles = profile === 3 && certificates.chargePoint === null;
    const [fromFiles, ca] = await Promise.all([
      ocppTlsOptions({
        insecureTls: settings.insecureTls,
        ...(clientFiles && settings.certFile !== undefined && { certFile: settings.certFile }),
        ...(clientFiles && settings.keyFile !== undefined && { keyFile: settings.keyFile }),
      }),
      this.#caPems(),
    ]);
    const installed = profile === 3 ? certificates.chargePoint : null;
    const clock = { hostMs: this.#o.hostClockMs ?? Date.now, knownTimeMs: () => this.#knownTimeMs() };
    const datesUnchecked = (): void =>
      this.#log.warn('central system certificate accepted without checking its dates: the clock is not set yet');
    return {
      ...fromFiles,
      ...(ca.length > 0 && { ca }),
      ...(installed !== null && { cert: installed.chainPem, key: installed.keyPem }),
      ...(fromFiles.rejectUnauthorized && { createConnection: verifiedConnection(ca.length > 0 ? ca : undefined, clock, datesUnchecked) }),
    };
  }
}

function isStoredProfile(stored: unknown): stored is StoredProfile | null {
  if (stored === null) return true;
  if (!isJsonObject<Partial<StoredProfile>>(stored)) return false;
  const level = (value: unknown): boolean => value === 0 || value === 1 || value === 2 || value === 3;
  return level(stored.profile) && level(stored.fileProfile);
}

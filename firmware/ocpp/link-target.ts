import type { Logger } from '../log.js';
import type { LinkTarget } from './connection.js';
import type { CertificateStore } from './model/certificate-store.js';
import { urlFor, type SecurityProfile } from './model/security-profile.js';
import { ocppTlsOptions, verifiedConnection, type OcppTlsOptions, type TlsSettings } from './tls.js';

/** What a target is made from: the `ocpp` TLS keys and the installed certificates. */
export interface TargetSources {
  readonly settings: TlsSettings & { readonly url: string };
  readonly certificates: CertificateStore;
}

/** The files a TLS target needs, read: ocpp.caFile with the installed central system roots, and the client files of profile 3. */
export interface TlsMaterial {
  readonly fromFiles: OcppTlsOptions;
  /** PEM. */
  readonly ca: readonly string[];
}

/** The times a TLS target checks certificate dates by. */
export interface TargetClock {
  /** The host clock TLS checks certificate dates against (tests set it back). */
  readonly hostMs: () => number;
  /** OCPP time now in ms, null while it is not known. */
  readonly knownTimeMs: () => number | null;
}

/** ocpp.caFile's certificates and the installed central system roots, as PEM. */
export async function caPems(sources: TargetSources): Promise<string[]> {
  const { settings, certificates } = sources;
  const { ca } = await ocppTlsOptions({
    insecureTls: settings.insecureTls,
    ...(settings.caFile !== undefined && { caFile: settings.caFile }),
  });
  return [...(typeof ca === 'string' ? [ca] : []), ...certificates.pems('CentralSystemRootCertificate')];
}

/** Reads what a target of `profile` needs (null below profile 2: no TLS). */
export async function readTlsMaterial(sources: TargetSources, profile: SecurityProfile): Promise<TlsMaterial | null> {
  if (profile < 2) return null;
  const { settings, certificates } = sources;
  const clientFiles = profile === 3 && certificates.chargePoint === null;
  const [fromFiles, ca] = await Promise.all([
    ocppTlsOptions({
      insecureTls: settings.insecureTls,
      ...(clientFiles && settings.certFile !== undefined && { certFile: settings.certFile }),
      ...(clientFiles && settings.keyFile !== undefined && { keyFile: settings.keyFile }),
    }),
    caPems(sources),
  ]);
  return { fromFiles, ca };
}

/**
 * What the link connects with for `profile` and `password`: the URL's scheme follows the profile,
 * profile 3 authenticates with the certificate alone (no Basic auth), and a verified TLS target
 * checks the central system certificate's dates only against a known time.
 */
export function targetOf(
  sources: TargetSources,
  profile: SecurityProfile,
  password: string,
  material: TlsMaterial | null,
  clock: TargetClock,
  log: Logger,
): LinkTarget {
  const url = urlFor(sources.settings.url, profile);
  const basic = profile === 3 ? '' : password;
  if (profile < 2 || material === null) return { url, password: basic };
  const { fromFiles } = material;
  const ca = [...material.ca];
  const installed = profile === 3 ? sources.certificates.chargePoint : null;
  const datesUnchecked = (): void => log.warn('central system certificate accepted without checking its dates: the clock is not set yet');
  const tls: OcppTlsOptions = {
    ...fromFiles,
    ...(ca.length > 0 && { ca }),
    ...(installed !== null && { cert: installed.chainPem, key: installed.keyPem }),
    ...(fromFiles.rejectUnauthorized && { createConnection: verifiedConnection(ca.length > 0 ? ca : undefined, clock, datesUnchecked) }),
  };
  return { url, password: basic, tls };
}

/**
 * OCPP 1.6 security profiles (security whitepaper §2): 0 none, 1 Basic auth over ws://, 2 TLS with
 * Basic auth, 3 TLS with a client certificate. The rules here are pure; `LinkSecurity` acts on them.
 */
export type SecurityProfile = 0 | 1 | 2 | 3;

/** What the link is configured with, as far as the profile is concerned. */
export interface ProfileInputs {
  readonly url: string;
  readonly password: string;
  /** A client certificate and key are at hand (installed by CertificateSigned, or ocpp.certFile/keyFile). */
  readonly clientCertificate: boolean;
}

/** The profile a configuration amounts to: the URL's scheme, then the credentials. */
export function profileOf(inputs: ProfileInputs): SecurityProfile {
  if (inputs.url.startsWith('wss://')) return inputs.clientCertificate ? 3 : 2;
  return inputs.password !== '' ? 1 : 0;
}

/** The central system URL for `profile`: the scheme follows the profile, the rest stays (as libocpp does). */
export function urlFor(url: string, profile: SecurityProfile): string {
  return url.replace(/^wss?:\/\//, profile >= 2 ? 'wss://' : 'ws://');
}

/** What a higher profile needs to be present before it is accepted. */
export interface ProfileMaterial {
  readonly authorizationKey: boolean;
  /** A CentralSystemRootCertificate installed, or ocpp.caFile. */
  readonly centralSystemRoot: boolean;
  readonly clientCertificate: boolean;
}

/**
 * Why ChangeConfiguration SecurityProfile=`requested` is Rejected, or null when it may be tried:
 * a profile is only raised, never lowered, and only when what it needs is present.
 */
export function raiseRefusal(current: SecurityProfile, requested: string, material: ProfileMaterial): string | null {
  if (!/^[0-3]$/.test(requested)) return 'not a security profile (0..3)';
  const profile = Number(requested) as SecurityProfile;
  if (profile <= current) return `a security profile is only raised (now ${current})`;
  if ((profile === 1 || profile === 2) && !material.authorizationKey) return 'needs an AuthorizationKey';
  if (profile >= 2 && !material.centralSystemRoot) return 'needs a CentralSystemRootCertificate';
  if (profile === 3 && !material.clientCertificate) return 'needs a charge point certificate';
  return null;
}

/**
 * AuthorizationKey: 16 to 40 printable ASCII characters (the whitepaper's password string; below 16
 * a guessable key would make Basic auth pointless).
 */
export function authorizationKeyProblem(value: string): string | null {
  if (value.length < 16 || value.length > 40) return 'must be 16 to 40 characters';
  if (!/^[\x21-\x7e]+$/.test(value)) return 'must be printable ASCII without spaces';
  return null;
}

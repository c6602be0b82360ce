import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { ClientRequestArgs } from 'node:http';
import {
  checkServerIdentity,
  connect,
  rootCertificates,
  type ConnectionOptions,
  type DetailedPeerCertificate,
  type SecureContextOptions,
  type TLSSocket,
} from 'node:tls';
import { readTlsFiles } from '../tls-files.js';
import { CLOCK_FLOOR_MS } from '../version.js';
import { chainProblem, parsedCertificates } from './x509.js';

/**
 * The cipher suites the OCPP 1.6 security whitepaper names for TLS 1.2 (security profiles 2 and
 * 3); TLS 1.3 uses Node's own suites, all of them AEAD.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
].join(':');

export interface TlsSettings {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly insecureTls: boolean;
}

/** How the HTTP request of the WebSocket gets its socket (Node's `createConnection`, the asynchronous form). */
export type CreateConnection = NonNullable<ClientRequestArgs['createConnection']>;

/** What the WebSocket client passes to `tls.connect` for a `wss://` central system. */
export type OcppTlsOptions = SecureContextOptions & {
  readonly rejectUnauthorized: boolean;
  readonly minVersion: 'TLSv1.2';
  /** Verification that survives a clock that is not set (`verifiedConnection`). */
  readonly createConnection?: CreateConnection;
};

/** The times the verification of a central system certificate goes by. */
export interface VerificationClock {
  /** The host's clock, which OpenSSL checks validity against. */
  readonly hostMs: () => number;
  /** OCPP time when known (a time source, or the central system's time), else null. */
  readonly knownTimeMs: () => number | null;
}

const DATE_ERRORS = new Set(['CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED']);

/** The peer's chain as sent, leaf first. */
function peerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert?.raw !== undefined && !chain.some((seen) => seen.raw.equals(cert!.raw))) {
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

/**
 * Node's own verification of the central system certificate, with one exception: a box whose
 * clock is certainly not set (before CLOCK_FLOOR_MS: no RTC, no time source yet) would find every
 * certificate "not yet valid" and never reach the central system that could tell it the time.
 * Then a date error alone does not refuse the server: the chain and the host name are checked
 * here, and the dates against the central system's time once it is known.
 */
export function verifiedConnection(
  ca: readonly string[] | undefined,
  clock: VerificationClock,
  onDatesUnchecked: () => void,
): CreateConnection {
  // Parsed only when a date error needs them: the common path is Node's own verification.
  let roots: X509Certificate[] | null = null;
  const trusted = (): X509Certificate[] => (roots ??= parsedCertificates(ca ?? rootCertificates));
  return (requestOptions, done) => {
    const options = requestOptions as ConnectionOptions;
    const host = options.host ?? '';
    const socket = connect({ ...options, servername: options.servername ?? (isIP(host) ? '' : host), rejectUnauthorized: false });
    const fail = (err: Error): void => {
      socket.destroy();
      done(err, socket);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      socket.off('error', fail);
      if (socket.authorized) return done(null, socket);
      const code = String(socket.authorizationError);
      if (!DATE_ERRORS.has(code) || clock.hostMs() >= CLOCK_FLOOR_MS)
        return fail(Object.assign(new Error(`central system certificate refused: ${code}`), { code }));
      const chain = peerChain(socket);
      const knownMs = clock.knownTimeMs();
      const problem = chainProblem(chain, trusted(), knownMs) ?? checkServerIdentity(host, socket.getPeerCertificate())?.message ?? null;
      if (problem !== null)
        return fail(Object.assign(new Error(`central system certificate refused: ${problem}`), { code: 'CERT_REFUSED' }));
      if (knownMs === null) onDatesUnchecked();
      return done(null, socket);
    });
    return undefined;
  };
}

/**
 * The TLS side of the OCPP link: the server certificate must chain to `ocpp.caFile` (without
 * one, to the system's roots) and match the host name, unless `ocpp.insecureTls` says otherwise;
 * TLS 1.2 or newer; a client certificate and key when both are given (security profile 3). A
 * file that cannot be read is a config error naming its key.
 */
export async function ocppTlsOptions(settings: TlsSettings): Promise<OcppTlsOptions> {
  const { ca, client } = await readTlsFiles(settings, 'ocpp');
  return {
    ...(ca !== undefined && { ca }),
    ...(client !== undefined && { cert: client.cert, key: client.key }),
    rejectUnauthorized: !settings.insecureTls,
    minVersion: 'TLSv1.2',
    ciphers: TLS12_CIPHERS,
  };
}

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { splitPems } from '../ocpp/x509.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { HttpError } from './http-io.js';

/** Where uploaded certificates are kept: `dataDir/certs/`, each file mode 0600, written atomically. */
export const CERT_DIR = 'certs';
export const CA_FILE = 'ocpp-ca.pem';
export const CLIENT_CERT_FILE = 'ocpp-client-cert.pem';
export const CLIENT_KEY_FILE = 'ocpp-client-key.pem';

export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly fingerprint256: string;
}

/** Every certificate in `pem` (a bundle may hold several); 400 naming `key` when there is none or one does not parse. */
function parseCertificates(pem: string, key: string): X509Certificate[] {
  const blocks = splitPems(pem);
  if (blocks.length === 0) throw new HttpError(400, `${key}: no PEM certificate (-----BEGIN CERTIFICATE-----) found`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new HttpError(400, `${key}: not a valid certificate (${(err as Error).message})`);
    }
  });
}

function info(cert: X509Certificate): CertificateInfo {
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    fingerprint256: cert.fingerprint256,
  };
}

/** Keeps the CA certificate(s) the central system must chain to; returns the path for `ocpp.caFile`. */
export async function storeCaCertificate(dataDir: string, pem: string): Promise<{ path: string; certificates: CertificateInfo[] }> {
  const certificates = parseCertificates(pem, 'pem');
  const path = join(dataDir, CERT_DIR, CA_FILE);
  await writeFileAtomic(path, certificates.map((c) => c.toString()).join(''), { raw: true });
  return { path, certificates: certificates.map(info) };
}

/** Keeps the client certificate and its key (security profile 3); the key must match the certificate. */
export async function storeClientCertificate(
  dataDir: string,
  certPem: string,
  keyPem: string,
): Promise<{ certFile: string; keyFile: string; certificate: CertificateInfo }> {
  const chain = parseCertificates(certPem, 'cert');
  const leaf = chain[0] as X509Certificate;
  let key;
  try {
    key = createPrivateKey({ key: keyPem, format: 'pem' });
  } catch {
    // The parser's message may quote the input: say only what is wrong.
    throw new HttpError(400, 'key: not an unencrypted PEM private key');
  }
  if (!leaf.checkPrivateKey(key)) throw new HttpError(400, 'key: does not match the certificate');
  const certFile = join(dataDir, CERT_DIR, CLIENT_CERT_FILE);
  const keyFile = join(dataDir, CERT_DIR, CLIENT_KEY_FILE);
  await writeFileAtomic(keyFile, key.export({ format: 'pem', type: 'pkcs8' }).toString(), { raw: true });
  await writeFileAtomic(certFile, chain.map((c) => c.toString()).join(''), { raw: true });
  return { certFile, keyFile, certificate: info(leaf) };
}

import type { Extension } from '@peculiar/x509';
import { createHash, createPrivateKey, KeyObject, sign, webcrypto, X509Certificate } from 'node:crypto';

/**
 * X.509 for the OCPP security extension. Signatures and chains are checked with Node's own
 * X509Certificate; the two DER fields a certificate hash needs are read below, and the one thing a
 * box makes, SignCertificate's PKCS#10 request, is written below with `node:crypto` signing it.
 * Making certificates (the installer's certificate tool, the tests' central system) comes from
 * @peculiar/x509, loaded on first use: the firmware never loads it (issue #21: with asn1js,
 * reflect-metadata and tsyringe it weighed 350 kB, a third of the protocol side's code).
 */
let peculiar: Promise<typeof import('@peculiar/x509')> | null = null;

/** @peculiar/x509, with Node's WebCrypto as its provider. */
function pkixLibrary(): Promise<typeof import('@peculiar/x509')> {
  peculiar ??= (async () => {
    // tsyringe, which @peculiar/x509 uses inside, needs the Reflect metadata API before it loads.
    await import('reflect-metadata');
    // CommonJS: its exports are the namespace's default (in Node and in the bundle alike).
    const pkix = (await import('@peculiar/x509')).default;
    pkix.cryptoProvider.set(webcrypto as unknown as Parameters<typeof pkix.cryptoProvider.set>[0]);
    return pkix;
  })();
  return peculiar;
}

/** ECDSA P-256 with SHA-256: what the security whitepaper allows and what small boxes sign fast. */
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** OCPP 1.6 security CertificateHashDataType; this box makes only SHA256 ones, a request may name any algorithm. */
export interface CertificateHashData {
  readonly hashAlgorithm: 'SHA256' | 'SHA384' | 'SHA512';
  readonly issuerNameHash: string;
  readonly issuerKeyHash: string;
  readonly serialNumber: string;
}

/** The certificates of a PEM text, in order (a chain or a bundle); anything else is ignored. */
export function splitPems(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** The certificate in `pem`, or null when it does not parse. */
export function parseCertificate(pem: string): X509Certificate | null {
  try {
    return new X509Certificate(pem);
  } catch {
    return null;
  }
}

/** The certificates that parse, of PEM texts that may each hold several. */
export function parsedCertificates(texts: readonly string[]): X509Certificate[] {
  return texts
    .flatMap(splitPems)
    .map(parseCertificate)
    .filter((cert): cert is X509Certificate => cert !== null);
}

const sha256 = (data: ArrayBuffer | Buffer): string =>
  createHash('sha256')
    .update(Buffer.from(data as ArrayBuffer))
    .digest('hex');

/**
 * The CertificateHashData of `cert` (OCSP CertID style): the hash of its issuer's name, the hash of
 * the issuer's public key bits, and its serial number. `issuer` is the certificate that signed it
 * (itself for a root).
 */
export function certificateHashData(cert: X509Certificate, issuer: X509Certificate): CertificateHashData {
  return {
    hashAlgorithm: 'SHA256',
    issuerNameHash: sha256(issuerNameDer(cert.raw)),
    issuerKeyHash: sha256(publicKeyBits(issuer.publicKey.export({ type: 'spki', format: 'der' }))),
    serialNumber: cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
  };
}

export function sameHashData(a: CertificateHashData, b: CertificateHashData): boolean {
  return (
    a.hashAlgorithm === b.hashAlgorithm &&
    a.issuerNameHash.toLowerCase() === b.issuerNameHash.toLowerCase() &&
    a.issuerKeyHash.toLowerCase() === b.issuerKeyHash.toLowerCase() &&
    a.serialNumber.toLowerCase().replace(/^0+(?=.)/, '') === b.serialNumber
  );
}

/** A DER element at `at` (X.690 §8.1): where it and its contents start, and where it ends. */
function derAt(der: Buffer, at: number): { at: number; contents: number; end: number } {
  const first = der[at + 1] as number;
  let length = first;
  let contents = at + 2;
  if (first & 0x80) {
    length = 0;
    for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + (der[contents + i] as number);
    contents += first & 0x7f;
  }
  if (contents + length > der.length) throw new Error('truncated DER');
  return { at, contents, end: contents + length };
}

/** The DER of a certificate's issuer Name (RFC 5280 §4.1: the fourth field of TBSCertificate, after an optional [0] version). */
function issuerNameDer(certificate: Buffer): Buffer {
  const tbs = derAt(certificate, derAt(certificate, 0).contents);
  let field = derAt(certificate, tbs.contents);
  if (certificate[field.at] === 0xa0) field = derAt(certificate, field.end); // version
  field = derAt(certificate, field.end); // serialNumber, then the signature algorithm
  field = derAt(certificate, field.end);
  return certificate.subarray(field.at, field.end);
}

/** The subjectPublicKey bits of a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), without the BIT STRING's unused-bits octet. */
function publicKeyBits(spki: Buffer): Buffer {
  const algorithm = derAt(spki, derAt(spki, 0).contents);
  const bits = derAt(spki, algorithm.end);
  return spki.subarray(bits.contents + 1, bits.end);
}

/** A new key pair made here, as PKCS#8 PEM, and its public half. */
async function newKeyPair(): Promise<{ keys: webcrypto.CryptoKeyPair; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keys, keyPem: pem('PRIVATE KEY', pkcs8) };
}

/** `der` in the PEM form (RFC 7468): base64 in lines of 64 between the labels. */
function pem(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
}

/** A distinguished name from its parts, each value escaped for the RFC 4514 string form. */
function distinguishedName(parts: ReadonlyArray<readonly [string, string]>): string {
  const escape = (value: string): string => value.replace(/[\\,+"<>;=]/g, '\\$&').replace(/^[ #]|\s$/g, '\\$&');
  return parts
    .filter(([, value]) => value !== '')
    .map(([type, value]) => `${type}=${escape(value)}`)
    .join(', ');
}

/** A DER element (X.690 §8.1): `tag`, its length in the short or long form, then `contents`. */
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const length = body.length;
  const lengthOctets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) lengthOctets.unshift(rest % 256);
  const header = length < 0x80 ? [tag, length] : [tag, 0x80 | lengthOctets.length, ...lengthOctets];
  return Buffer.concat([Buffer.from(header), body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;
/** The DER of the object identifiers below (X.690 §8.19): id-at-commonName and id-at-organizationName (RFC 5280 App. A), ecdsa-with-SHA256 (RFC 5758 §3.2). */
const OID_COMMON_NAME = Buffer.from('0603550403', 'hex');
const OID_ORGANIZATION = Buffer.from('060355040a', 'hex');
const ECDSA_WITH_SHA256 = der(SEQUENCE, Buffer.from('06082a8648ce3d040302', 'hex'));

/** An X.501 Name of one attribute per RDN, in the order given, each value a UTF8String (RFC 5280 §4.1.2.4). */
function nameDer(attributes: ReadonlyArray<readonly [Buffer, string]>): Buffer {
  const rdns = attributes
    .filter(([, value]) => value !== '')
    .map(([oid, value]) => der(SET, der(SEQUENCE, oid, der(0x0c, Buffer.from(value, 'utf8')))));
  return der(SEQUENCE, ...rdns);
}

/**
 * SignCertificate: a key pair made on the box and a PKCS#10 request for it (RFC 2986 §4), CN and O
 * as the whitepaper asks, no attributes, signed with the new key (ECDSA P-256, SHA-256).
 */
export async function certificateRequest(subject: {
  commonName: string;
  organization: string;
}): Promise<{ csrPem: string; keyPem: string }> {
  const { keys, keyPem } = await newKeyPair();
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const info = der(
    SEQUENCE,
    der(0x02, Buffer.from([0])), // version 0
    nameDer([
      [OID_COMMON_NAME, subject.commonName],
      [OID_ORGANIZATION, subject.organization],
    ]),
    spki,
    der(0xa0), // attributes [0]: none
  );
  const signature = sign('sha256', info, KeyObject.from(keys.privateKey)); // DER ECDSA-Sig-Value
  const csr = der(SEQUENCE, info, ECDSA_WITH_SHA256, der(0x03, Buffer.from([0]), signature));
  return { csrPem: pem('CERTIFICATE REQUEST', csr), keyPem };
}

/** Whether `keyPem` is the private key of `cert`. */
export function keyMatches(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** When a certificate is valid, ms. */
function validity(cert: X509Certificate): { fromMs: number; toMs: number } {
  return { fromMs: Date.parse(cert.validFrom), toMs: Date.parse(cert.validTo) };
}

/**
 * Why `chain` (leaf first) does not lead to one of `roots`, or null when it does: each certificate
 * issued and signed by the next, the last one by a root. `atMs` checks every validity period at that
 * time; null skips it (a box whose clock is not known yet, see the README).
 */
export function chainProblem(chain: readonly X509Certificate[], roots: readonly X509Certificate[], atMs: number | null): string | null {
  if (chain.length === 0) return 'no certificate';
  for (const [i, cert] of chain.entries()) {
    if (atMs !== null) {
      const { fromMs, toMs } = validity(cert);
      if (!(atMs >= fromMs && atMs <= toMs)) return `certificate ${i} is not valid now (${cert.validFrom} .. ${cert.validTo})`;
    }
    const next = chain[i + 1];
    if (next !== undefined && !(cert.checkIssued(next) && cert.verify(next.publicKey)))
      return `certificate ${i} is not signed by certificate ${i + 1}`;
  }
  const top = chain[chain.length - 1] as X509Certificate;
  const anchor = roots.find((root) => top.fingerprint256 === root.fingerprint256 || (top.checkIssued(root) && top.verify(root.publicKey)));
  return anchor === undefined ? 'does not chain to an installed root certificate' : null;
}

/** A CA, a TLS server or client, or a firmware signer (SignedUpdateFirmware's signing certificate). */
export type CertificateRole = 'ca' | 'server' | 'client' | 'firmware-signer';

export interface IssueOptions {
  readonly role: CertificateRole;
  readonly commonName: string;
  readonly organization?: string;
  /** Host names and IP addresses (server role). */
  readonly hosts?: readonly string[];
  readonly days: number;
  /** The CA that signs it; none = self-signed (a root CA). */
  readonly issuer?: { readonly certPem: string; readonly keyPem: string };
  /** A CSR whose key the certificate is for (SignCertificate's answer); none = a new key pair. */
  readonly csrPem?: string;
  /** When it becomes valid; a minute ago when not given. */
  readonly notBefore?: Date;
}

const IP_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+:[0-9a-f:]*)$/i;

/**
 * A certificate for the installer's certificate tool and the tests' central system: a root CA, a
 * server certificate for the backend's host names, or a charge point (client) certificate.
 */
export async function issueCertificate(options: IssueOptions): Promise<{ certPem: string; keyPem: string | null }> {
  const pkix = await pkixLibrary();
  const fresh = options.csrPem === undefined ? await newKeyPair() : null;
  const publicKey =
    fresh !== null ? fresh.keys.publicKey : await new pkix.Pkcs10CertificateRequest(options.csrPem as string).publicKey.export();
  const signingKey =
    options.issuer !== undefined ? await importKey(options.issuer.keyPem) : (fresh as { keys: webcrypto.CryptoKeyPair }).keys.privateKey;
  const subject = distinguishedName([
    ['CN', options.commonName],
    ['O', options.organization ?? ''],
  ]);
  const issuerName = options.issuer !== undefined ? new pkix.X509Certificate(options.issuer.certPem).subject : subject;
  const extensions: Extension[] = [
    new pkix.BasicConstraintsExtension(options.role === 'ca', undefined, true),
    new pkix.KeyUsagesExtension(
      options.role === 'ca'
        ? pkix.KeyUsageFlags.keyCertSign | pkix.KeyUsageFlags.cRLSign
        : pkix.KeyUsageFlags.digitalSignature | pkix.KeyUsageFlags.keyAgreement,
      true,
    ),
    await pkix.SubjectKeyIdentifierExtension.create(publicKey),
  ];
  const usage = {
    server: pkix.ExtendedKeyUsage.serverAuth,
    client: pkix.ExtendedKeyUsage.clientAuth,
    'firmware-signer': pkix.ExtendedKeyUsage.codeSigning,
  } as const;
  if (options.role !== 'ca') extensions.push(new pkix.ExtendedKeyUsageExtension([usage[options.role]]));
  if (options.hosts !== undefined && options.hosts.length > 0) {
    extensions.push(
      new pkix.SubjectAlternativeNameExtension(options.hosts.map((host) => ({ type: IP_ADDRESS.test(host) ? 'ip' : 'dns', value: host }))),
    );
  }
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const cert = await pkix.X509CertificateGenerator.create({
    subject,
    issuer: issuerName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + options.days * 86_400_000),
    publicKey,
    signingKey,
    signingAlgorithm: KEY_ALGORITHM,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: fresh?.keyPem ?? null };
}

/** A signing key from PEM (PKCS#8 or the SEC1 form openssl writes). */
async function importKey(keyPem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, false, ['sign']) as Promise<webcrypto.CryptoKey>;
}

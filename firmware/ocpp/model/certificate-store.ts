import { Type, type Static } from '@sinclair/typebox';
import type { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import { readStoredJson, writeFileAtomic } from '../../store/atomic-file.js';
import {
  certificateHashData,
  certificateRequest,
  chainProblem,
  keyMatches,
  parseCertificate,
  sameHashData,
  splitPems,
  type CertificateHashData,
} from '../x509.js';
import { storedCheck } from './stored-check.js';

/** OCPP 1.6 security CertificateUseEnumType: the roots the central system may install. */
const RootTypeSchema = Type.Union([Type.Literal('CentralSystemRootCertificate'), Type.Literal('ManufacturerRootCertificate')]);
export type RootCertificateType = Static<typeof RootTypeSchema>;

const StoredRootSchema = Type.Object({
  type: RootTypeSchema,
  pem: Type.String(),
  /** The central system root this one replaced under AdditionalRootCertificateCheck: kept until the new one has carried a connection. */
  fallback: Type.Optional(Type.Boolean()),
});

/** `dataDir/ocpp-certificates.json`. */
const StoredCertificatesSchema = Type.Object({
  roots: Type.Array(StoredRootSchema),
  /** The charge point certificate (leaf first, then intermediates) and its key, made here. */
  chargePoint: Type.Union([Type.Null(), Type.Object({ chainPem: Type.String(), keyPem: Type.String() })]),
  /** The key of the last SignCertificate request, waiting for CertificateSigned. */
  pendingKeyPem: Type.Union([Type.Null(), Type.String()]),
});
type StoredCertificates = Static<typeof StoredCertificatesSchema>;

const isStoredShape = storedCheck(StoredCertificatesSchema);

/** The file, of its schema, with every root a certificate that parses. */
function isStoredCertificates(stored: unknown): stored is StoredCertificates {
  return isStoredShape(stored) && stored.roots.every((root) => parseCertificate(root.pem) !== null);
}

const EMPTY: StoredCertificates = { roots: [], chargePoint: null, pendingKeyPem: null };

export interface InstallRules {
  /** CertificateStoreMaxLength: roots of all types together. */
  readonly maxLength: number;
  /** AdditionalRootCertificateCheck: one central system root at a time, each signed by the one it replaces. */
  readonly additionalRootCheck: boolean;
  /** Now on the central system's clock, or null while the clock is not known (validity not checked). */
  readonly nowMs: number | null;
}

/**
 * The certificates of the security extension in `dataDir/ocpp-certificates.json`, one file written
 * atomically (mode 0600): a charge point certificate and its key must change together. It checks
 * what it is given; which certificate the link uses is the link's business.
 */
export class CertificateStore {
  readonly #path: string | null;
  readonly #log: Logger;
  #stored: StoredCertificates;

  private constructor(path: string | null, stored: StoredCertificates, log: Logger) {
    this.#path = path;
    this.#stored = stored;
    this.#log = log;
  }

  static async load(dataDir: string | null, log: Logger): Promise<CertificateStore> {
    const path = dataDir === null ? null : join(dataDir, 'ocpp-certificates.json');
    const stored = path === null ? EMPTY : await readStoredJson(path, EMPTY, isStoredCertificates, log);
    return new CertificateStore(path, stored, log);
  }

  /** The installed roots of a type, as PEM. */
  pems(type: RootCertificateType): string[] {
    return this.#stored.roots.filter((root) => root.type === type).map((root) => root.pem);
  }

  /** GetInstalledCertificateIds. */
  ids(type: RootCertificateType): CertificateHashData[] {
    return this.#stored.roots.filter((root) => root.type === type).map((root) => this.#hashData(root.pem));
  }

  /** The charge point certificate chain and key (security profile 3), or null. */
  get chargePoint(): { readonly chainPem: string; readonly keyPem: string } | null {
    return this.#stored.chargePoint;
  }

  /** InstallCertificate: Rejected for what is not a valid CA certificate or breaks a rule, Failed when it cannot be stored. */
  async install(
    type: RootCertificateType,
    pem: string,
    rules: InstallRules,
  ): Promise<{ status: 'Accepted' | 'Rejected' | 'Failed'; reason?: string }> {
    const pems = splitPems(pem);
    const cert = pems.length === 1 ? parseCertificate(pems[0] as string) : null;
    if (cert === null) return { status: 'Rejected', reason: 'not one PEM certificate' };
    if (!cert.ca) return { status: 'Rejected', reason: 'not a CA certificate' };
    if (rules.nowMs !== null && chainProblem([cert], [cert], rules.nowMs) !== null) return { status: 'Rejected', reason: 'not valid now' };
    const roots = this.#stored.roots;
    if (roots.some((root) => root.type === type && parseCertificate(root.pem)?.fingerprint256 === cert.fingerprint256))
      return { status: 'Accepted' };
    let kept = roots;
    if (type === 'CentralSystemRootCertificate' && rules.additionalRootCheck) {
      const current = roots.filter((root) => root.type === type && root.fallback !== true).map((root) => parseCertificate(root.pem));
      if (current.length > 0 && !current.some((old) => old !== null && cert.verify(old.publicKey)))
        return { status: 'Rejected', reason: 'not signed by the central system root it replaces' };
      kept = roots
        .filter((root) => root.type !== type)
        .concat(roots.filter((root) => root.type === type && root.fallback !== true).map((root) => ({ ...root, fallback: true })));
    }
    if (kept.length >= rules.maxLength) return { status: 'Rejected', reason: 'certificate store full (CertificateStoreMaxLength)' };
    const saved = await this.#save({ ...this.#stored, roots: [...kept, { type, pem: pems[0] as string }] });
    return saved ? { status: 'Accepted' } : { status: 'Failed', reason: 'storage' };
  }

  /** DeleteCertificate by its hash data. */
  async remove(hash: CertificateHashData): Promise<'Accepted' | 'Failed' | 'NotFound'> {
    const match = this.#stored.roots.find((root) => sameHashData(this.#hashData(root.pem), hash));
    if (match === undefined) return 'NotFound';
    return (await this.#save({ ...this.#stored, roots: this.#stored.roots.filter((root) => root !== match) })) ? 'Accepted' : 'Failed';
  }

  /** The type of the installed root with this hash data, or null. */
  find(hash: CertificateHashData): RootCertificateType | null {
    return this.#stored.roots.find((root) => sameHashData(this.#hashData(root.pem), hash))?.type ?? null;
  }

  /** A connection was verified with the current central system root: the replaced one is no longer needed. */
  async dropFallbackRoots(): Promise<void> {
    if (!this.#stored.roots.some((root) => root.fallback === true)) return;
    await this.#save({ ...this.#stored, roots: this.#stored.roots.filter((root) => root.fallback !== true) });
  }

  /** SignCertificate: a new key pair, kept until CertificateSigned; the CSR to send. */
  async newRequest(subject: { commonName: string; organization: string }): Promise<string> {
    const { csrPem, keyPem } = await certificateRequest(subject);
    if (!(await this.#save({ ...this.#stored, pendingKeyPem: keyPem }))) throw new Error('the new key could not be stored');
    return csrPem;
  }

  /**
   * CertificateSigned: the chain must be for the key of the last request, name this charge point,
   * be valid now (when the clock is known) and lead to one of `roots`. Why not, or null when installed.
   */
  async acceptSigned(
    chainPem: string,
    expect: { commonName: string; roots: readonly X509Certificate[]; nowMs: number | null },
  ): Promise<string | null> {
    const pendingKeyPem = this.#stored.pendingKeyPem;
    if (pendingKeyPem === null) return 'no certificate request is pending';
    const chain = splitPems(chainPem).map(parseCertificate);
    if (chain.length === 0 || chain.some((cert) => cert === null)) return 'not a PEM certificate chain';
    const certs = chain as X509Certificate[];
    const leaf = certs[0] as X509Certificate;
    if (!keyMatches(leaf, pendingKeyPem)) return 'not for the key of the pending request';
    if (!leaf.subject.split('\n').includes(`CN=${expect.commonName}`)) return `common name is not ${expect.commonName}`;
    const problem = chainProblem(certs, expect.roots, expect.nowMs);
    if (problem !== null) return problem;
    const saved = await this.#save({
      ...this.#stored,
      chargePoint: { chainPem: certs.map((cert) => cert.toString()).join(''), keyPem: pendingKeyPem },
      pendingKeyPem: null,
    });
    return saved ? null : 'storage';
  }

  #hashData(pem: string): CertificateHashData {
    const cert = parseCertificate(pem) as X509Certificate;
    const issuer = this.#stored.roots
      .map((root) => parseCertificate(root.pem))
      .find((other) => other !== null && cert.checkIssued(other) && cert.verify(other.publicKey));
    return certificateHashData(cert, issuer ?? cert);
  }

  /** In memory only when written: a certificate the box cannot keep is refused, not half-installed. */
  async #save(next: StoredCertificates): Promise<boolean> {
    if (this.#path !== null) {
      try {
        await writeFileAtomic(this.#path, JSON.stringify(next, null, 1));
      } catch (err) {
        this.#log.error('certificates not saved', {
          path: this.#path,
          code: (err as NodeJS.ErrnoException).code ?? (err as Error).message,
        });
        return false;
      }
    }
    this.#stored = next;
    return true;
  }
}

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  certificateHashData,
  certificateRequest,
  chainProblem,
  issueCertificate,
  keyMatches,
  sameHashData,
  splitPems,
} from '../../firmware/ocpp/x509.js';

/**
 * The X.509 helpers checked against openssl, an independent implementation: it verifies the
 * certificates and the CSR we make, and computes the OCSP CertID hashes we report as
 * CertificateHashData.
 */

const openssl = (cwd: string, args: string[]): string =>
  execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

async function pki(dir: string) {
  const root = await issueCertificate({ role: 'ca', commonName: 'Root "A", Test', days: 30 });
  const server = await issueCertificate({
    role: 'server',
    commonName: 'localhost',
    hosts: ['localhost', '127.0.0.1'],
    days: 30,
    issuer: { certPem: root.certPem, keyPem: root.keyPem as string },
  });
  writeFileSync(join(dir, 'root.crt'), root.certPem);
  writeFileSync(join(dir, 'server.crt'), server.certPem);
  return { root, server };
}

t.test('a root CA and a server certificate that openssl verifies, with the host names as SANs', async (t) => {
  const dir = t.testdir();
  await pki(dir);
  t.match(openssl(dir, ['verify', '-CAfile', 'root.crt', 'server.crt']), /server\.crt: OK/);
  const text = openssl(dir, ['x509', '-in', 'server.crt', '-noout', '-text']);
  t.match(text, /DNS:localhost, IP Address:127\.0\.0\.1/);
  t.match(text, /TLS Web Server Authentication/);
  t.match(
    openssl(dir, ['x509', '-in', 'root.crt', '-noout', '-subject']),
    /CN = "?Root \\?"A\\?", Test"?/,
    'a name with quotes and a comma survives',
  );
});

t.test('CertificateHashData equals the OCSP CertID openssl computes (SHA-256)', async (t) => {
  const dir = t.testdir();
  const { root, server } = await pki(dir);
  openssl(dir, ['ocsp', '-issuer', 'root.crt', '-sha256', '-cert', 'server.crt', '-no_nonce', '-reqout', 'req.der']);
  const request = openssl(dir, ['ocsp', '-reqin', 'req.der', '-req_text']);
  const field = (name: string): string => (new RegExp(`${name}: ([0-9A-F]+)`).exec(request)?.[1] ?? '').toLowerCase();
  const ours = certificateHashData(new X509Certificate(server.certPem), new X509Certificate(root.certPem));
  t.equal(ours.issuerNameHash, field('Issuer Name Hash'));
  t.equal(ours.issuerKeyHash, field('Issuer Key Hash'));
  t.equal(ours.serialNumber, field('Serial Number').replace(/^0+/, ''));
  t.ok(
    sameHashData({ ...ours, issuerKeyHash: ours.issuerKeyHash.toUpperCase(), serialNumber: `00${ours.serialNumber}` }, ours),
    'case and leading zeros do not matter',
  );
  t.notOk(sameHashData({ ...ours, serialNumber: 'ff' }, ours));
});

t.test('a CSR with the charge box id as CN and the CPO name as O, signed by its key, and the key made here', async (t) => {
  const dir = t.testdir();
  const { csrPem, keyPem } = await certificateRequest({ commonName: 'box-7', organization: 'ACME, CPO' });
  writeFileSync(join(dir, 'box.csr'), csrPem);
  const out = execFileSync('openssl', ['req', '-in', 'box.csr', '-noout', '-verify', '-subject'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.match(out, /CN = box-7, O = "?ACME\\?, CPO"?/);
  t.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  const root = await issueCertificate({ role: 'ca', commonName: 'Root', days: 30 });
  const signed = await issueCertificate({
    role: 'client',
    commonName: 'box-7',
    days: 30,
    csrPem,
    issuer: { certPem: root.certPem, keyPem: root.keyPem as string },
  });
  t.equal(signed.keyPem, null, 'signing a CSR makes no key');
  t.ok(keyMatches(new X509Certificate(signed.certPem), keyPem), 'the certificate is for the CSR key');
  t.notOk(
    keyMatches(new X509Certificate(signed.certPem), (await certificateRequest({ commonName: 'x', organization: 'y' })).keyPem),
    'not for another key',
  );
});

t.test('a CSR written here (no library): lengths past 255 bytes, UTF-8 kept, an empty O left out', async (t) => {
  const dir = t.testdir();
  const organization = `Stadtwerke Müller ${'x'.repeat(300)}`;
  const subjects: Array<[string, { commonName: string; organization: string }]> = [
    ['long.csr', { commonName: 'box-8', organization }],
    ['no-o.csr', { commonName: 'box-9', organization: '' }],
  ];
  for (const [file, subject] of subjects) writeFileSync(join(dir, file), (await certificateRequest(subject)).csrPem);
  const subjectOf = (file: string): string =>
    execFileSync('openssl', ['req', '-in', file, '-noout', '-verify', '-subject', '-nameopt', 'utf8,sep_comma_plus_space'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  t.equal(subjectOf('long.csr'), `subject=CN=box-8, O=${organization}`, 'openssl verifies it and reads the subject back');
  t.equal(subjectOf('no-o.csr'), 'subject=CN=box-9');
});

t.test('chainProblem: signatures up to an installed root, validity only when the time is known', async (t) => {
  const root = await issueCertificate({ role: 'ca', commonName: 'Root', days: 30 });
  const other = await issueCertificate({ role: 'ca', commonName: 'Other', days: 30 });
  const rootKey = { certPem: root.certPem, keyPem: root.keyPem as string };
  const leaf = new X509Certificate((await issueCertificate({ role: 'client', commonName: 'box', days: 1, issuer: rootKey })).certPem);
  const roots = [new X509Certificate(root.certPem)];
  t.equal(chainProblem([leaf], roots, Date.now()), null);
  t.match(chainProblem([leaf], [new X509Certificate(other.certPem)], Date.now()), /does not chain/);
  t.match(chainProblem([leaf], roots, Date.now() + 3 * 86_400_000), /not valid now/);
  t.equal(chainProblem([leaf], roots, null), null, 'time unknown: the signatures still count, the dates do not');
  t.match(chainProblem([], roots, null), /no certificate/);
  t.same(splitPems(`junk\n${root.certPem}\nmore\n${other.certPem}`).length, 2);
});

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { silentLogger } from '../../firmware/log.js';
import { CertificateStore, type InstallRules } from '../../firmware/ocpp/model/certificate-store.js';
import { certificateHashData, issueCertificate } from '../../firmware/ocpp/x509.js';

const RULES: InstallRules = { maxLength: 10, additionalRootCheck: false, nowMs: Date.now() };

async function ca(commonName: string, signer?: { certPem: string; keyPem: string }) {
  const made = await issueCertificate({ role: 'ca', commonName, days: 30, ...(signer !== undefined && { issuer: signer }) });
  return { certPem: made.certPem, keyPem: made.keyPem as string };
}

t.test('InstallCertificate: CA certificates only; kept in one file of mode 0600 that a new load reads back', async (t) => {
  const dir = t.testdir();
  const store = await CertificateStore.load(dir, silentLogger);
  const root = await ca('Root');
  const leaf = await issueCertificate({ role: 'server', commonName: 'cs', days: 30, issuer: root });
  t.same(await store.install('CentralSystemRootCertificate', leaf.certPem, RULES), { status: 'Rejected', reason: 'not a CA certificate' });
  t.same(await store.install('CentralSystemRootCertificate', 'garbage', RULES), { status: 'Rejected', reason: 'not one PEM certificate' });
  t.same(await store.install('CentralSystemRootCertificate', root.certPem + root.certPem, RULES), {
    status: 'Rejected',
    reason: 'not one PEM certificate',
  });
  t.same(await store.install('CentralSystemRootCertificate', root.certPem, { ...RULES, nowMs: Date.now() + 40 * 86_400_000 }), {
    status: 'Rejected',
    reason: 'not valid now',
  });
  t.same(await store.install('CentralSystemRootCertificate', root.certPem, RULES), { status: 'Accepted' });
  t.same(
    await store.install('CentralSystemRootCertificate', root.certPem, RULES),
    { status: 'Accepted' },
    'the same one again: nothing changes',
  );
  t.same(await store.install('ManufacturerRootCertificate', (await ca('Maker')).certPem, RULES), { status: 'Accepted' });
  const file = join(dir, 'ocpp-certificates.json');
  t.equal(statSync(file).mode & 0o777, 0o600);
  const again = await CertificateStore.load(dir, silentLogger);
  t.equal(again.pems('CentralSystemRootCertificate').length, 1);
  t.equal(again.pems('ManufacturerRootCertificate').length, 1);
  t.notOk(readFileSync(file, 'utf8').includes('PRIVATE KEY'), 'no key yet');
});

t.test('CertificateStoreMaxLength counts the roots of both types', async (t) => {
  const store = await CertificateStore.load(null, silentLogger);
  for (const name of ['A', 'B'])
    t.equal((await store.install('ManufacturerRootCertificate', (await ca(name)).certPem, { ...RULES, maxLength: 3 })).status, 'Accepted');
  t.equal((await store.install('CentralSystemRootCertificate', (await ca('C')).certPem, { ...RULES, maxLength: 3 })).status, 'Accepted');
  t.same(await store.install('CentralSystemRootCertificate', (await ca('D')).certPem, { ...RULES, maxLength: 3 }), {
    status: 'Rejected',
    reason: 'certificate store full (CertificateStoreMaxLength)',
  });
});

t.test('GetInstalledCertificateIds and DeleteCertificate by hash data', async (t) => {
  const store = await CertificateStore.load(null, silentLogger);
  const root = await ca('Root');
  await store.install('CentralSystemRootCertificate', root.certPem, RULES);
  const cert = new X509Certificate(root.certPem);
  t.same(store.ids('CentralSystemRootCertificate'), [certificateHashData(cert, cert)]);
  t.same(store.ids('ManufacturerRootCertificate'), []);
  const id = store.ids('CentralSystemRootCertificate')[0]!;
  t.equal(store.find(id), 'CentralSystemRootCertificate');
  t.equal(await store.remove({ ...id, serialNumber: '1234' }), 'NotFound');
  t.equal(await store.remove(id), 'Accepted');
  t.equal(await store.remove(id), 'NotFound');
  t.same(store.pems('CentralSystemRootCertificate'), []);
});

t.test(
  'AdditionalRootCertificateCheck: a new central system root must be signed by the old one, which stays as a fallback until a connection used the new one',
  async (t) => {
    const store = await CertificateStore.load(null, silentLogger);
    const rules = { ...RULES, additionalRootCheck: true };
    const old = await ca('Old');
    t.equal(
      (await store.install('CentralSystemRootCertificate', old.certPem, rules)).status,
      'Accepted',
      'the first one needs no signature',
    );
    t.same(await store.install('CentralSystemRootCertificate', (await ca('Stranger')).certPem, rules), {
      status: 'Rejected',
      reason: 'not signed by the central system root it replaces',
    });
    const next = await ca('Next', old);
    t.equal((await store.install('CentralSystemRootCertificate', next.certPem, rules)).status, 'Accepted');
    t.equal(store.pems('CentralSystemRootCertificate').length, 2, 'old and new while the new one is untried');
    await store.dropFallbackRoots();
    t.same(store.pems('CentralSystemRootCertificate'), [next.certPem.trim()]);
  },
);

t.test('CertificateSigned: only for the pending key, this charge point, a root it chains to, valid now', async (t) => {
  const dir = t.testdir();
  const store = await CertificateStore.load(dir, silentLogger);
  const root = await ca('Root');
  const roots = [new X509Certificate(root.certPem)];
  const expect = { commonName: 'box-7', roots, nowMs: Date.now() };
  const sign = async (csrPem: string, commonName = 'box-7', issuer = root, days = 30) =>
    (await issueCertificate({ role: 'client', commonName, days, csrPem, issuer })).certPem;
  t.equal(await store.acceptSigned(root.certPem, expect), 'no certificate request is pending');
  const csr = await store.newRequest({ commonName: 'box-7', organization: 'ACME' });
  t.match(readFileSync(join(dir, 'ocpp-certificates.json'), 'utf8'), /pendingKeyPem/, 'the new key is kept while the request is out');
  t.equal(await store.acceptSigned('not a certificate', expect), 'not a PEM certificate chain');
  const otherCsr = await (await CertificateStore.load(null, silentLogger)).newRequest({ commonName: 'box-7', organization: 'ACME' });
  t.equal(await store.acceptSigned(await sign(otherCsr), expect), 'not for the key of the pending request');
  t.equal(await store.acceptSigned(await sign(csr, 'box-8'), expect), 'common name is not box-7');
  t.equal(await store.acceptSigned(await sign(csr, 'box-7', await ca('Other')), expect), 'does not chain to an installed root certificate');
  t.match(await store.acceptSigned(await sign(csr), { ...expect, nowMs: Date.now() + 60 * 86_400_000 }), /not valid now/);
  t.equal(store.chargePoint, null, 'nothing installed by the refusals');
  const good = await sign(csr);
  t.equal(await store.acceptSigned(good, expect), null);
  t.equal(store.chargePoint?.chainPem.trim(), good.trim());
  t.ok(new X509Certificate(good).checkPrivateKey(createPrivateKey(store.chargePoint!.keyPem)));
  t.equal(await store.acceptSigned(good, expect), 'no certificate request is pending', 'the same answer twice: the request is used up');
  t.equal((await CertificateStore.load(dir, silentLogger)).chargePoint?.keyPem, store.chargePoint?.keyPem, 'kept across a restart');
});

import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { issueCertificate, type CertificateRole } from '../firmware/ocpp/x509.js';

const USAGE = `usage:
  certificates ca     --out PREFIX [--name NAME] [--days N]
  certificates server --ca PREFIX --host HOST [--host HOST ...] --out PREFIX [--days N]
  certificates client --ca PREFIX --id CHARGEBOXID [--org CPONAME] --out PREFIX [--days N]
  certificates sign   --ca PREFIX --csr FILE --id CHARGEBOXID --out PREFIX [--days N]
PREFIX.crt is the certificate, PREFIX.key its private key (mode 0600).`;

/** A command line the tool cannot act on: usage, exit 2. */
class UsageError extends Error {}

/**
 * The installer's certificate tool, for security profiles 2 and 3 without typing openssl:
 *   ca      a root CA (ocpp.caFile of the box, and the CA the central system's certificates chain to)
 *   server  a certificate for the central system's host names and addresses, signed by the CA
 *   client  a charge point certificate and key (ocpp.certFile / ocpp.keyFile, profile 3)
 *   sign    signs a charge point's CSR (what a central system does with SignCertificate)
 * Keys are ECDSA P-256, certificates SHA-256.
 */
async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        ca: { type: 'string' },
        name: { type: 'string' },
        host: { type: 'string', multiple: true },
        id: { type: 'string' },
        org: { type: 'string' },
        csr: { type: 'string' },
        days: { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (positionals.length !== 1 || !['ca', 'server', 'client', 'sign'].includes(command ?? ''))
    throw new UsageError('one command: ca, server, client or sign');
  const out = required(values.out, '--out');
  const days = values.days === undefined ? (command === 'ca' ? 3650 : 825) : Number(values.days);
  if (!Number.isInteger(days) || days < 1) throw new UsageError('--days: a whole number of days, at least 1');
  const issuer = command === 'ca' ? undefined : await readPair(required(values.ca, '--ca'));
  const role: CertificateRole = command === 'ca' ? 'ca' : command === 'server' ? 'server' : 'client';
  const commonName =
    command === 'ca'
      ? (values.name ?? 'Wallbox OCPP Root CA')
      : command === 'server'
        ? required(values.host?.[0], '--host')
        : required(values.id, '--id');
  const { certPem, keyPem } = await issueCertificate({
    role,
    commonName,
    days,
    ...(values.org !== undefined && { organization: values.org }),
    ...(command === 'server' && { hosts: values.host ?? [] }),
    ...(issuer !== undefined && { issuer }),
    ...(command === 'sign' && { csrPem: await readFile(required(values.csr, '--csr'), 'utf8') }),
  });
  await writeFile(`${out}.crt`, certPem, { mode: 0o644 });
  if (keyPem !== null) await writeFile(`${out}.key`, keyPem, { mode: 0o600 });
  process.stdout.write(
    JSON.stringify({ certificate: `${out}.crt`, ...(keyPem !== null && { key: `${out}.key` }), commonName, days }) + '\n',
  );
  return 0;
}

function required(value: string | undefined, option: string): string {
  if (value === undefined || value === '') throw new UsageError(`${option} is required`);
  return value;
}

async function readPair(prefix: string): Promise<{ certPem: string; keyPem: string }> {
  const [certPem, keyPem] = await Promise.all([readFile(`${prefix}.crt`, 'utf8'), readFile(`${prefix}.key`, 'utf8')]);
  return { certPem, keyPem };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`certificates: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`certificates: ${(err as Error).message}\n`);
    process.exit(1);
  },
);

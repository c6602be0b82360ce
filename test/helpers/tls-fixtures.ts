import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Real certificates made by `openssl` for the TLS tests, in `dir`. */
export interface Certificates {
  readonly dir: string;
  /** Paths: the test CA, another CA, a server cert for localhost/127.0.0.1, an expired one, one for another host, a client cert. */
  readonly ca: string;
  readonly otherCa: string;
  readonly server: { readonly cert: string; readonly key: string };
  readonly expired: { readonly cert: string; readonly key: string };
  readonly wrongHost: { readonly cert: string; readonly key: string };
  readonly client: { readonly cert: string; readonly key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A P-256 key and a certificate signed by `caName` (`days` may be negative: expired). */
function issue(dir: string, name: string, caName: string, cn: string, san: string, days: number): void {
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${caName}.crt`,
    '-CAkey',
    `${caName}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    String(days),
    '-extfile',
    `${name}.ext`,
  ]);
}

export function makeCertificates(dir: string): Certificates {
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-subj',
      `/CN=Test ${ca}`,
      '-days',
      '2',
    ]);
  }
  issue(dir, 'server', 'ca', 'localhost', 'DNS:localhost,IP:127.0.0.1', 2);
  issue(dir, 'expired', 'ca', 'localhost', 'DNS:localhost,IP:127.0.0.1', -1);
  issue(dir, 'elsewhere', 'ca', 'backend.example', 'DNS:backend.example', 2);
  issue(dir, 'client', 'ca', 'box-tls', 'DNS:box-tls', 2);
  const pair = (name: string) => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    otherCa: join(dir, 'other-ca.crt'),
    server: pair('server'),
    expired: pair('expired'),
    wrongHost: pair('elsewhere'),
    client: pair('client'),
  };
}

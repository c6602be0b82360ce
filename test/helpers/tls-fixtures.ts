import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { RPCServer } from 'ocpp-rpc';

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
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', String(days), '-extfile', `${name}.ext`]);
}

export function makeCertificates(dir: string): Certificates {
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-subj', `/CN=Test ${ca}`, '-days', '2']);
  }
  issue(dir, 'server', 'ca', 'localhost', 'DNS:localhost,IP:127.0.0.1', 2);
  issue(dir, 'expired', 'ca', 'localhost', 'DNS:localhost,IP:127.0.0.1', -1);
  issue(dir, 'elsewhere', 'ca', 'backend.example', 'DNS:backend.example', 2);
  issue(dir, 'client', 'ca', 'box-tls', 'DNS:box-tls', 2);
  const pair = (name: string) => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });
  return { dir, ca: join(dir, 'ca.crt'), otherCa: join(dir, 'other-ca.crt'), server: pair('server'), expired: pair('expired'), wrongHost: pair('elsewhere'), client: pair('client') };
}

export interface TlsCentralSystem {
  readonly url: string;
  /** Identities that completed a WebSocket handshake. */
  readonly connected: string[];
  close(): Promise<void>;
}

/** ocpp-rpc's strict server on `https.createServer` with `cert`; `requireClientCertFrom` = a CA for profile 3. */
export async function startTlsCentralSystem(cert: { cert: string; key: string }, requireClientCertFrom?: string): Promise<TlsCentralSystem> {
  const { readFileSync } = await import('node:fs');
  const https: Server = createServer({
    cert: readFileSync(cert.cert),
    key: readFileSync(cert.key),
    ...(requireClientCertFrom !== undefined && { ca: readFileSync(requireClientCertFrom), requestCert: true, rejectUnauthorized: true }),
  });
  const rpc = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
  const connected: string[] = [];
  rpc.auth((accept: (session?: Record<string, unknown>, protocol?: string) => void) => accept({}, 'ocpp1.6'));
  rpc.on('client', (client: { identity: string; handle: (fn: (call: { method: string }) => unknown) => void }) => {
    connected.push(client.identity);
    client.handle(({ method }) => {
      if (method === 'BootNotification') return { status: 'Accepted', interval: 300, currentTime: new Date().toISOString() };
      if (method === 'StatusNotification') return {};
      return {};
    });
  });
  https.on('upgrade', rpc.handleUpgrade);
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  const { port } = https.address() as AddressInfo;
  return {
    url: `wss://localhost:${port}/ocpp`,
    connected,
    close: async () => {
      await rpc.close({ force: true, awaitPending: false });
      await new Promise<void>((resolve) => https.close(() => resolve()));
      https.closeAllConnections();
    },
  };
}

import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { startCentralSystem } from '../helpers/central-system.js';
import { runTool, startBox } from '../helpers/firmware-process.js';

/**
 * The installer's certificate tool: a root CA, the central system's certificate and the charge
 * point's, checked by openssl, and then what they are for: the built firmware connecting with
 * security profile 3 to a central system that demands a client certificate.
 */

t.test('ca, server and client certificates set up profile 3 in three commands', async (t) => {
  const dir = t.testdir();
  const tool = (args: string[]) => runTool(args, dir, { tool: 'certificates' });
  const ca = await tool(['ca', '--out', 'ca', '--name', 'ACME OCPP Root']);
  t.equal(ca.code, 0, ca.stderr);
  t.match(JSON.parse(ca.stdout), { certificate: 'ca.crt', key: 'ca.key', commonName: 'ACME OCPP Root', days: 3650 });
  t.equal((await tool(['server', '--ca', 'ca', '--host', 'localhost', '--host', '127.0.0.1', '--out', 'backend'])).code, 0);
  t.equal((await tool(['client', '--ca', 'ca', '--id', 'box-tool', '--org', 'ACME CPO', '--out', 'box-tool'])).code, 0);
  for (const key of ['ca.key', 'backend.key', 'box-tool.key'])
    t.equal(statSync(join(dir, key)).mode & 0o777, 0o600, `${key} is readable by its owner only`);
  t.match(
    execFileSync('openssl', ['verify', '-CAfile', 'ca.crt', 'backend.crt', 'box-tool.crt'], { cwd: dir, encoding: 'utf8' }),
    /backend\.crt: OK\nbox-tool\.crt: OK/,
  );

  const cs = await startCentralSystem({
    tls: { cert: join(dir, 'backend.crt'), key: join(dir, 'backend.key'), clientCa: join(dir, 'ca.crt'), requireClientCertificate: true },
  });
  t.teardown(() => cs.close());
  const box = await startBox(dir, {
    ocpp: {
      url: cs.url.replace('ws://', 'wss://'),
      chargeBoxId: 'box-tool',
      caFile: join(dir, 'ca.crt'),
      certFile: join(dir, 'box-tool.crt'),
      keyFile: join(dir, 'box-tool.key'),
    },
  });
  t.teardown(() => box.fw.kill());
  await cs.waitForCall('BootNotification');
  const [connection] = cs.connections;
  t.equal(connection?.secure, true);
  t.same(connection?.clientCertificate?.subject, { CN: 'box-tool', O: 'ACME CPO' }, 'the central system sees the charge point certificate');
  t.same((await cs.call('GetConfiguration', { key: ['SecurityProfile'] })).configurationKey, [
    { key: 'SecurityProfile', readonly: false, value: '3' },
  ]);
  await box.fw.kill();
});

t.test('a command line it cannot act on: exit 2 with the usage', async (t) => {
  const dir = t.testdir();
  for (const args of [
    [],
    ['server', '--out', 'x'],
    ['ca'],
    ['ca', '--out', 'x', '--days', '0'],
    ['what', '--out', 'x'],
    ['ca', '--out', 'x', '--bogus'],
  ]) {
    const result = await runTool(args, dir, { tool: 'certificates' });
    t.equal(result.code, 2, args.join(' '));
    t.match(result.stderr, /usage:/);
  }
});

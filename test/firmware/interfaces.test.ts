import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { startFirmware, startRtuFirmware } from '../helpers/firmware-process.js';
import { startPtyPair } from '../helpers/socat.js';
import { tcpClient } from '../helpers/modbus-client.js';

/**
 * An interface that cannot come up at start (a port in use, an overlay value the box cannot
 * use, a damaged web password store) is logged and retried; it stops neither the charging core
 * nor the other interfaces.
 */

async function busyPort(t: { teardown(fn: () => unknown): void }): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve()))); // closed already by some tests: the callback still comes
  return { port: (server.address() as AddressInfo).port, server };
}

t.test('Modbus TCP on a port in use: logged at error, the rest runs, Modbus comes up once the port is free', async (t) => {
  const dir = t.testdir({});
  const { port, server } = await busyPort(t);
  const fw = startFirmware(dir, {
    dataDir: join(dir, 'data'),
    sim: { controlPort: 0 },
    http: { host: '127.0.0.1', port: 0 },
    modbus: { tcp: { host: '127.0.0.1', port } },
  });
  t.teardown(() => fw.kill());
  const failed = await fw.waitForLog((l) => l['msg'] === 'Modbus TCP failed to start; retrying');
  t.equal(failed['level'], 'error');
  await fw.waitForLog((l) => l['msg'] === 'firmware running');
  await fw.waitForLog((l) => l['msg'] === 'HTTP API listening');
  t.pass('the charging core and the web interface run');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await fw.waitForLog((l) => l['msg'] === 'Modbus TCP listening', 15_000);
  const client = await tcpClient(port);
  t.equal((await client.readHoldingRegisters(8040, 1)).data[0], 1, 'Modbus answers once the port is free');
  await new Promise<void>((resolve) => client.close(() => resolve()));
  t.equal(await fw.stop(), 0);
});

t.test("an overlay value the box cannot bind falls back to the config file's, logged at error", async (t) => {
  const dir = t.testdir({});
  const { port } = await busyPort(t);
  const file = { host: '127.0.0.1', port: 0 };
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  // As a web write of a version without the checks left it, or a port taken since.
  writeFileSync(join(data, 'config-overlay.json'), JSON.stringify({ http: { value: { host: '127.0.0.1', port }, fileValue: file } }));
  const fw = startFirmware(dir, { dataDir: data, sim: { controlPort: 0 }, http: file, modbus: { tcp: { host: '127.0.0.1', port: 0 } } });
  t.teardown(() => fw.kill());
  const fallback = await fw.waitForLog((l) => l['msg'] === "HTTP API up on the config file's value: the run-time value failed");
  t.equal(fallback['level'], 'error');
  t.not((await fw.waitForLog((l) => l['msg'] === 'HTTP API listening'))['port'], port, "listening on the file's port");
  t.equal(await fw.stop(), 0);
});

t.test('a directory in place of http-password.json: the firmware runs, the web API refuses everything and says why', async (t) => {
  const dir = t.testdir({ data: { 'http-password.json': {} } });
  const fw = startFirmware(dir, {
    dataDir: join(dir, 'data'),
    sim: { controlPort: 0 },
    http: { host: '127.0.0.1', port: 0 },
    modbus: { tcp: { host: '127.0.0.1', port: 0 } },
  });
  t.teardown(() => fw.kill());
  const http = await fw.waitForLog((l) => l['msg'] === 'HTTP API listening');
  t.ok(
    fw.logs.some(
      (l) =>
        l['level'] === 'error' && l['msg'] === 'web password store unreadable: the web API refuses every request until it is set again',
    ) ||
      (await fw.waitForLog((l) => l['msg'] === 'web password store unreadable: the web API refuses every request until it is set again')),
  );
  for (const path of ['/api/auth', '/api/status']) {
    const reply = await fetch(`http://127.0.0.1:${String(http['port'])}${path}`);
    t.equal(reply.status, 503, path);
    t.match(
      ((await reply.json()) as { error: string }).error,
      /^http-password\.json unreadable \(EISDIR\): set a new password with npm run http-password$/,
    );
  }
  await fw.waitForLog((l) => l['msg'] === 'firmware running');
  t.equal(await fw.stop(), 0, 'runs on and stops cleanly');
});

t.test("an overlay RS-485 device that does not open falls back to the config file's, logged at error", async (t) => {
  const pty = await startPtyPair();
  t.teardown(() => pty.close());
  const dir = t.testdir({});
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  // A device that was there when it was set (a USB adapter since unplugged), or a version without the check.
  writeFileSync(
    join(data, 'config-overlay.json'),
    JSON.stringify({ 'modbus.rtu.path': { value: '/dev/no-such-rs485', fileValue: pty.slavePath } }),
  );
  const fw = startRtuFirmware(dir, pty.slavePath, 19200);
  t.teardown(() => fw.kill());
  const fallback = await fw.waitForLog((l) => l['msg'] === "Modbus RTU up on the config file's value: the run-time value failed");
  t.equal(fallback['level'], 'error');
  t.match(fallback['reasons'], [/no-such-rs485/], 'the failure of the overlay device is named');
  const listening = await fw.waitForLog((l) => l['msg'] === 'Modbus RTU listening');
  t.equal(listening['path'], pty.slavePath, "listening on the config file's device");
  t.equal(await fw.stop(), 0);
});

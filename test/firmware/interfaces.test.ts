import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { boxRigFor } from '../helpers/box-rig.js';
import { startFirmware } from '../helpers/firmware-process.js';
import { startPtyPair } from '../helpers/socat.js';
import { tcpClient } from '../helpers/modbus-client.js';

/**
 * An interface that cannot come up at start (a port in use, an overlay value the box cannot
 * use, a damaged web password store) is logged and retried; it stops neither the charging core
 * nor the other interfaces. In-process on the simulated clock (box-rig.ts), but for the overlay
 * fallbacks: they cross the worker-thread boundary (the RS-485 device is opened on the main
 * thread at the worker's request, the web interface's endpoints are chosen in the worker), so
 * the built firmware runs them as a process.
 */

async function busyPort(t: { teardown(fn: () => unknown): void }): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve()))); // closed already by some tests: the callback still comes
  return { port: (server.address() as AddressInfo).port, server };
}

t.test('Modbus TCP on a port in use: logged at error, the rest runs, Modbus comes up once the port is free', async (t) => {
  const { port, server } = await busyPort(t);
  const box = await boxRigFor(t, { http: { host: '127.0.0.1', port: 0 }, modbus: { tcp: { host: '127.0.0.1', port } } });
  const failed = await box.fw.waitForLog((l) => l['msg'] === 'Modbus TCP failed to start; retrying');
  t.equal(failed['level'], 'error');
  await box.fw.waitForLog((l) => l['msg'] === 'firmware running');
  await box.fw.waitForLog((l) => l['msg'] === 'HTTP API listening');
  t.pass('the charging core and the web interface run');
  t.equal(
    box.logs.find((l) => l['msg'] === 'Modbus TCP listening'),
    undefined,
    'Modbus is not up while the port is taken',
  );
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await box.fw.waitForLog((l) => l['msg'] === 'Modbus TCP listening', 15_000);
  const client = await tcpClient(port);
  t.equal((await box.settle(client.readHoldingRegisters(8040, 1))).data[0], 1, 'Modbus answers once the port is free');
  await new Promise<void>((resolve) => client.close(() => resolve()));
});

t.test('a directory in place of http-password.json: the firmware runs, the web API refuses everything and says why', async (t) => {
  const box = await boxRigFor(t, { http: { host: '127.0.0.1', port: 0 } }, { fixture: { data: { 'http-password.json': {} } } });
  await box.fw.waitForLog((l) => l['msg'] === 'HTTP API listening');
  const refused = await box.fw.waitForLog(
    (l) => l['msg'] === 'web password store unreadable: the web API refuses every request until it is set again',
  );
  t.equal(refused['level'], 'error');
  for (const path of ['/api/auth', '/api/status']) {
    const reply = await fetch(`http://127.0.0.1:${String(box.httpPort)}${path}`);
    t.equal(reply.status, 503, path);
    t.match(
      ((await reply.json()) as { error: string }).error,
      /^http-password\.json unreadable \(EISDIR\): set a new password with npm run http-password$/,
    );
  }
  await box.fw.waitForLog((l) => l['msg'] === 'firmware running');
  await box.close();
  t.match(JSON.parse(readFileSync(join(box.fileConfig.dataDir, 'state.json'), 'utf8')), { cleanStop: true }, 'runs on and stops cleanly');
});

t.test("overlay values the box cannot use (RS-485 device, HTTP port) fall back to the config file's, logged at error", async (t) => {
  const pty = await startPtyPair();
  t.teardown(() => pty.close());
  const { port } = await busyPort(t);
  const dir = t.testdir({});
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  // A device that was there when it was set (a USB adapter since unplugged), a port taken since,
  // or a version without the checks.
  const fileHttp = { host: '127.0.0.1', port: 0 };
  writeFileSync(
    join(data, 'config-overlay.json'),
    JSON.stringify({
      'modbus.rtu.path': { value: '/dev/no-such-rs485', fileValue: pty.slavePath },
      http: { value: { host: '127.0.0.1', port }, fileValue: fileHttp },
    }),
  );
  const fw = startFirmware(dir, {
    dataDir: data,
    sim: { controlPort: 0 },
    http: fileHttp,
    modbus: { tcp: null, rtu: { path: pty.slavePath, baudRate: 19200 } },
  });
  t.teardown(() => fw.kill());
  const rtuFallback = await fw.waitForLog((l) => l['msg'] === "Modbus RTU up on the config file's value: the run-time value failed");
  t.equal(rtuFallback['level'], 'error');
  t.match(rtuFallback['reasons'], [/no-such-rs485/], 'the failure of the overlay device is named');
  const rtu = await fw.waitForLog((l) => l['msg'] === 'Modbus RTU listening');
  t.equal(rtu['path'], pty.slavePath, "listening on the config file's device");
  const httpFallback = await fw.waitForLog((l) => l['msg'] === "HTTP API up on the config file's value: the run-time value failed");
  t.equal(httpFallback['level'], 'error');
  t.not((await fw.waitForLog((l) => l['msg'] === 'HTTP API listening'))['port'], port, "listening on the file's port");
  t.equal(await fw.stop(), 0);
});

import t from 'tap';
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { exceptionOf, tcpClient } from '../helpers/modbus-client.js';
import { boxRig, type BoxRig } from '../helpers/box-rig.js';
import { pymodbusMaster } from '../helpers/pymodbus.js';

/**
 * The slave on Modbus TCP against independent masters: mbpoll, pymodbus and the modbus-serial
 * client; the box in-process on the simulated clock (box-rig.ts).
 */

const run = promisify(execFile);

async function mbpollRead(port: number, address: number, count: number, unit = 1): Promise<number[]> {
  const { stdout } = await run(
    'mbpoll',
    ['-m', 'tcp', '-p', String(port), '-a', String(unit), '-0', '-r', String(address), '-c', String(count), '-1', '-t', '4', '127.0.0.1'],
    { timeout: 10_000 },
  );
  return [...stdout.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)].map((m) => Number(m[2]) & 0xffff);
}

/** Sends raw bytes and resolves with what comes back before the connection closes or `ms` pass. */
async function raw(port: number, bytes: Buffer, ms = 300): Promise<{ data: Buffer; closed: boolean }> {
  const socket: Socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(socket, 'close').then(() => (closed = true));
  socket.write(bytes);
  await Promise.race([ended, new Promise((r) => setTimeout(r, ms))]);
  socket.destroy();
  return { data: Buffer.concat(chunks), closed };
}

const mbap = (tid: number, unit: number, pdu: number[]) => Buffer.from([tid >> 8, tid & 0xff, 0, 0, 0, pdu.length + 1, unit, ...pdu]);

let box: BoxRig;
let port: number;
t.before(async () => {
  box = await boxRig(t.testdir({}));
  port = Number(box.modbusPort);
});
t.teardown(() => box.close());

t.test('mbpoll reads 8092..8095 with the boot values; the sim car charging shows in them', async (t) => {
  t.same(await mbpollRead(port, 8092, 4), [0, 320, 1, 0], '8092 A, 8093 = 8081 = 320, 8094 = 1, 8095 = 0');
  await box.simPost('/sim/ev', { state: 'C' });
  await box.pace(() => box.snapshot()['relayClosed'] === true);
  t.same(await mbpollRead(port, 8092, 4), [2, 320, 1, 320]);
  await box.simPost('/sim/ev', { state: 'A' });
  await box.pace(() => box.snapshot()['cp'] === 'A');
});

t.test('pymodbus reads identity and map version; unit ids 1, 0 and 255 answer, 2 does not', async (t) => {
  const py = await pymodbusMaster(['tcp', '127.0.0.1', port]);
  t.teardown(() => py.close());
  const [vendorHi, vendorLo, productId, , versionHi, versionLo, mapVersion] = await py.read(8000, 7);
  t.equal(((vendorHi ?? 0) << 16) | (vendorLo ?? 0), 0x534e);
  t.equal(productId, 1);
  t.equal(mapVersion, 0x0100);
  t.equal(((versionHi ?? 0) << 16) | (versionLo ?? 0), 0x00010000, 'firmware 0.1.0');
  const serial = Buffer.from((await py.read(8008, 8)).flatMap((w) => [w >> 8, w & 0xff]))
    .toString('latin1')
    .replace(/\0+$/, '');
  t.equal(serial, 'SIM-000001');
  for (const unit of [1, 0, 255]) t.same(await py.read(8094, 1, unit), [1], `unit ${unit} answers`);
  const other = await py.request({ op: 'read', address: 8094, count: 1, unit: 2 });
  t.ok(other.error !== undefined, `unit 2 gets no answer (${other.error})`);
});

t.test('modbus-serial: exceptions 01, 02 and 03 as the contract says; FC16 writes and reads back', async (t) => {
  const c = await tcpClient(port);
  t.teardown(() => c.close(() => {}));
  t.equal(await exceptionOf(c.readInputRegisters(8092, 1)), 1, 'FC04: illegal function');
  t.equal(await exceptionOf(c.readCoils(8092, 1)), 1, 'FC01');
  t.equal(await exceptionOf(c.writeCoil(8094, true)), 1, 'FC05');
  t.equal(await exceptionOf(c.readHoldingRegisters(7999, 2)), 2, 'starts before the window');
  t.equal(await exceptionOf(c.readHoldingRegisters(8120, 9)), 2, 'leaves the window');
  t.equal(await exceptionOf(c.writeRegister(8092, 1)), 2, 'read-only');
  t.equal(await exceptionOf(c.writeRegister(8050, 1)), 2, 'a hole');
  t.equal(await exceptionOf(c.writeRegister(8094, 2)), 3, '8094 = 2');
  t.equal(await exceptionOf(c.writeRegister(8093, 801)), 3);
  t.equal(await exceptionOf(c.writeRegister(8087, 1)), 3, 'phase switching not enabled');
  t.same((await c.readHoldingRegisters(8127, 1)).data, [0], 'the last register of the window is a hole reading 0');
  t.same((await c.readHoldingRegisters(8093, 2)).data, [320, 1], 'no refused write changed anything');
  await c.writeRegisters(8093, [75, 0]);
  t.same((await c.readHoldingRegisters(8093, 3)).data, [75, 0, 0]);
  await c.writeRegisters(8093, [320, 1]);
});

t.test('malformed TCP frames: a lying or oversized length and a wrong protocol id close the link; a split frame is answered', async (t) => {
  const read8094 = [0x03, 0x1f, 0x9e, 0x00, 0x01];
  const good = await raw(port, mbap(7, 1, read8094));
  t.same([...good.data], [0, 7, 0, 0, 0, 5, 1, 3, 2, 0, 1], 'a correct frame');
  const wrongProtocol = mbap(8, 1, read8094);
  wrongProtocol[3] = 1;
  t.match(await raw(port, wrongProtocol), { closed: true, data: Buffer.alloc(0) }, 'protocol id 1');
  const oversized = Buffer.concat([Buffer.from([0, 9, 0, 0, 0x01, 0x2c, 1]), Buffer.alloc(300)]);
  t.match(await raw(port, oversized), { closed: true, data: Buffer.alloc(0) }, 'length 300');
  const zeroLength = Buffer.from([0, 10, 0, 0, 0, 0, 1, 3]);
  t.match(await raw(port, zeroLength), { closed: true }, 'length 0');

  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  t.teardown(() => socket.destroy());
  const frame = mbap(11, 1, read8094);
  const answers: Buffer[] = [];
  socket.on('data', (c: Buffer) => answers.push(c));
  socket.write(frame.subarray(0, 4));
  await new Promise((r) => setTimeout(r, 50));
  socket.write(frame.subarray(4));
  socket.write(Buffer.concat([mbap(12, 1, read8094), mbap(13, 255, read8094)])); // pipelined
  await box.pace(() => Buffer.concat(answers).length >= 33, 2000);
  const all = Buffer.concat(answers);
  t.same([all.readUInt16BE(0), all.readUInt16BE(11), all.readUInt16BE(22)], [11, 12, 13], 'answered in order with their transaction ids');
  t.equal(all[28], 255, 'unit 255 echoed');
});

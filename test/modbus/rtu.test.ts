import t from 'tap';
import { spawn } from 'node:child_process';
import { ModbusClient } from '../../hal/linux/modbus-client.js';
import type { ModbusRTU } from 'modbus-serial/ModbusRTU.js';
import { pollUntil, startRtuFirmware, type FirmwareProcess } from '../helpers/firmware-process.js';
import { openRawRtuMaster, readPdu, rtuFrame, writeMultiplePdu, writeSinglePdu, type RawRtuMaster } from '../helpers/modbus-frames.js';
import { pymodbusMaster, type PyAnswer, type PyRequest } from '../helpers/pymodbus.js';
import { startPtyPair, type PtyPair } from '../helpers/socat.js';

/**
 * The built firmware as a Modbus RTU slave on one end of a socat pty pair, against independent
 * masters on the other end, one at a time: mbpoll and a pymodbus script (separate processes), the
 * modbus-serial client, and raw frames for what no master library sends (bad CRC, broadcasts).
 */

t.setTimeout(30_000);

const BAUD = 19200;
/** Waiting this long for an answer that must not come. */
const SILENCE_MS = 300;

let pty: PtyPair;
let fw: FirmwareProcess;
let simBase: string;
const children = new Set<ReturnType<typeof spawn>>();

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a master as a separate process; killed after `timeoutMs`. */
async function run(command: string, args: string[], timeoutMs = 15_000): Promise<Run> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  children.delete(child);
  return { code, stdout, stderr };
}

/** mbpoll on the master end: holding registers (`-t 4`) or input registers (`-t 3`), PDU addresses (`-0`), once (`-1`). */
async function mbpoll(
  address: number,
  count: number,
  options: { unit?: number; table?: 3 | 4; timeoutS?: number } = {},
): Promise<Run & { values: number[] }> {
  const args = [
    '-m',
    'rtu',
    '-b',
    String(BAUD),
    '-P',
    'none',
    '-a',
    String(options.unit ?? 1),
    '-0',
    '-r',
    String(address),
    '-c',
    String(count),
    '-1',
    '-t',
    String(options.table ?? 4),
  ];
  if (options.timeoutS !== undefined) args.push('-o', String(options.timeoutS));
  const result = await run('mbpoll', [...args, pty.masterPath]);
  return { ...result, values: [...result.stdout.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)].map((m) => Number(m[2]) & 0xffff) };
}

/** One pymodbus master process (/usr/bin/python3, Debian's python3-pymodbus) doing `ops` in order, then gone. */
async function pymodbus(ops: PyRequest[]): Promise<PyAnswer[]> {
  const master = await pymodbusMaster(['rtu', pty.masterPath, BAUD]);
  try {
    const answers: PyAnswer[] = [];
    for (const op of ops) answers.push(await master.request(op));
    return answers;
  } finally {
    await master.close();
  }
}

/** A modbus-serial RTU client on the master end; closed by the subtest's teardown. */
async function serialClient(tt: Pick<typeof t, 'teardown'>, unit = 1, timeoutMs = 1000): Promise<ModbusRTU> {
  const client = new ModbusClient();
  await client.connectRTUBuffered(pty.masterPath, { baudRate: BAUD });
  client.setID(unit);
  client.setTimeout(timeoutMs);
  tt.teardown(() => new Promise<void>((resolve) => client.close(() => resolve())));
  return client;
}

async function closeClient(client: ModbusRTU): Promise<void> {
  if (client.isOpen) await new Promise<void>((resolve) => client.close(() => resolve()));
}

type Outcome = { data: number[] } | { exception: number } | { timeout: true } | { error: string };

/** What a modbus-serial request came to: registers, a Modbus exception, a timeout or another error. */
async function outcome(request: Promise<unknown>): Promise<Outcome> {
  try {
    const result = (await request) as { data?: number[]; value?: number };
    return { data: result.data ?? (result.value !== undefined ? [result.value] : []) };
  } catch (err) {
    const e = err as { modbusCode?: number; errno?: string; message?: string };
    if (typeof e.modbusCode === 'number') return { exception: e.modbusCode };
    if (e.errno === 'ETIMEDOUT') return { timeout: true };
    return { error: String(e.message) };
  }
}

/** A raw master on the master end; closed by the subtest's teardown. */
async function rawMaster(tt: Pick<typeof t, 'teardown'>): Promise<RawRtuMaster> {
  const master = await openRawRtuMaster(pty.masterPath, BAUD);
  tt.teardown(() => master.close());
  return master;
}

const regs = (pdu: Buffer | undefined): number[] => {
  if (!pdu || pdu[0] !== 0x03) return [-1, ...(pdu ? [...pdu] : [])];
  return Array.from({ length: (pdu[1] as number) / 2 }, (_, i) => pdu.readUInt16BE(2 + i * 2));
};

const simPost = async (path: string, body: unknown): Promise<number> =>
  (await fetch(`${simBase}${path}`, { method: 'POST', body: JSON.stringify(body) })).status;

t.before(async () => {
  const dir = t.testdir({});
  pty = await startPtyPair();
  fw = startRtuFirmware(dir, pty.slavePath, BAUD);
  await fw.waitForLog((l) => l['msg'] === 'Modbus RTU listening' && l['path'] === pty.slavePath);
  const sim = await fw.waitForLog((l) => l['msg'] === 'simulator control API listening');
  simBase = `http://127.0.0.1:${String(sim['port'])}`;
});

/** On a tap timeout the process ends without running the teardown: no child may be left behind. */
const killAll = (): void => {
  fw?.child.kill('SIGKILL');
  void pty?.close();
  for (const child of children) child.kill('SIGKILL');
};
t.on('timeout', killAll);
process.once('exit', killAll);

t.teardown(async () => {
  for (const child of children) child.kill('SIGKILL');
  if (fw && fw.child.exitCode === null && fw.child.signalCode === null) {
    const killer = setTimeout(() => fw.child.kill('SIGKILL'), 3000);
    await fw.stop();
    clearTimeout(killer);
  }
  await pty?.close();
});

t.test('mbpoll reads 8092..8095 as the contract says after boot: A, 320, 1, 0', async (t) => {
  const read = await mbpoll(8092, 4);
  t.equal(read.code, 0, read.stderr);
  t.same(read.values, [0, 320, 1, 0], '8092 = 0 (A, no car), 8093 = 8081 = 320, 8094 = 1, 8095 = 0');
});

t.test('pymodbus and modbus-serial read the same registers and the identity', async (t) => {
  const [window, identity] = await pymodbus([
    { op: 'read', address: 8092, count: 4 },
    { op: 'read', address: 8006, count: 1 },
  ]);
  t.same(window, { registers: [0, 320, 1, 0] });
  t.same(identity, { registers: [0x0100] }, 'register map version');
  const client = await serialClient(t);
  t.same(await outcome(client.readHoldingRegisters(8092, 4)), { data: [0, 320, 1, 0] });
  t.same(
    await outcome(client.readHoldingRegisters(8080, 2)),
    { data: [320, 320] },
    '8080 = 32 A installation limit, 8081 = 8080 by default',
  );
});

t.test('FC06 8093 = 160 reads back 160 in every master; then 320 again', async (t) => {
  const client = await serialClient(t);
  t.same(await outcome(client.writeRegister(8093, 160)), { data: [160] }, 'modbus-serial: the write is echoed');
  await closeClient(client);
  t.same((await mbpoll(8093, 1)).values, [160], 'mbpoll reads it back');
  const [readBack, restore, again] = await pymodbus([
    { op: 'read', address: 8093, count: 1 },
    { op: 'write', address: 8093, value: 320 },
    { op: 'read', address: 8092, count: 4 },
  ]);
  t.same(readBack, { registers: [160] }, 'pymodbus reads it back');
  t.same(restore, { ok: true }, 'pymodbus FC06');
  t.same(again, { registers: [0, 320, 1, 0] });
});

t.test('exceptions: 02 outside the window, 03 for 8094 = 2, 01 for FC04', async (t) => {
  const outside = await mbpoll(8200, 4);
  t.equal(outside.code, 1);
  t.match(outside.stderr, /Illegal data address/);
  const fc04 = await mbpoll(8092, 1, { table: 3 });
  t.equal(fc04.code, 1);
  t.match(fc04.stderr, /Illegal function/);

  t.same(
    await pymodbus([
      { op: 'read', address: 8200, count: 4 },
      { op: 'read', address: 7999, count: 2 },
      { op: 'read', address: 8120, count: 9 },
      { op: 'write', address: 8094, value: 2 },
      { op: 'read_input', address: 8092, count: 1 },
      { op: 'read', address: 8094, count: 1 },
    ]),
    [{ exception: 2 }, { exception: 2 }, { exception: 2 }, { exception: 3 }, { exception: 1 }, { registers: [1] }],
  );

  const client = await serialClient(t);
  t.same(await outcome(client.readHoldingRegisters(8128, 1)), { exception: 2 }, 'the first register after the window');
  t.same(await outcome(client.writeRegister(8094, 2)), { exception: 3 });
  t.same(await outcome(client.writeRegister(8093, 801)), { exception: 3 });
  t.same(await outcome(client.writeRegister(8092, 1)), { exception: 2 }, 'read-only');
  t.same(await outcome(client.readInputRegisters(8092, 1)), { exception: 1 });
  t.same(await outcome(client.readHoldingRegisters(8093, 2)), { data: [320, 1] }, 'nothing refused changed a register');
});

t.test('a request to unit 7 gets no answer while unit 1 answers', async (t) => {
  const silent = await mbpoll(8092, 4, { unit: 7, timeoutS: 0.5 });
  t.equal(silent.code, 1);
  t.match(silent.stderr, /timed out/i);
  t.same((await mbpoll(8092, 4)).values, [0, 320, 1, 0]);

  const [py7, py1] = await pymodbus([
    { op: 'read', address: 8092, count: 4, unit: 7 },
    { op: 'read', address: 8092, count: 4, unit: 1 },
  ]);
  t.ok(py7?.error !== undefined && py7.registers === undefined, `pymodbus unit 7: no response (${JSON.stringify(py7)})`);
  t.same(py1, { registers: [0, 320, 1, 0] });

  const seven = await serialClient(t, 7, SILENCE_MS);
  t.same(await outcome(seven.readHoldingRegisters(8092, 4)), { timeout: true }, 'modbus-serial unit 7 times out');
  seven.setID(1);
  seven.setTimeout(1000);
  t.same(await outcome(seven.readHoldingRegisters(8092, 4)), { data: [0, 320, 1, 0] });
  await closeClient(seven);

  const raw = await rawMaster(t);
  t.equal(await raw.request(7, readPdu(8092, 4), SILENCE_MS), null, 'raw unit 7: silence');
  t.same(
    await raw.request(1, readPdu(8092, 4)),
    { unit: 1, pdu: Buffer.from([3, 8, 0, 0, 0x01, 0x40, 0, 1, 0, 0]) },
    'raw unit 1: the exact response',
  );
});

t.test('a broadcast write (unit 0) is carried out without a reply', async (t) => {
  const raw = await rawMaster(t);
  await raw.send(rtuFrame(0, writeSinglePdu(8093, 200)));
  t.same([...(await raw.quiet(SILENCE_MS))], [], 'FC06 broadcast: no reply');
  t.same(regs((await raw.request(1, readPdu(8093, 2)))?.pdu), [200, 1], 'unit 1 reads the broadcast value');

  await raw.send(rtuFrame(0, writeMultiplePdu(8093, [180, 0])));
  t.same([...(await raw.quiet(SILENCE_MS))], [], 'FC16 broadcast: no reply');
  t.same(regs((await raw.request(1, readPdu(8093, 2)))?.pdu), [180, 0]);

  await raw.send(rtuFrame(0, readPdu(8093, 2)));
  t.same([...(await raw.quiet(SILENCE_MS))], [], 'a broadcast read is not answered either');
  await raw.send(rtuFrame(0, writeSinglePdu(8094, 2)));
  t.same([...(await raw.quiet(SILENCE_MS))], [], 'a refused broadcast write: no exception reply');

  t.same(
    (await raw.request(1, writeMultiplePdu(8093, [320, 1])))?.pdu,
    writeMultiplePdu(8093, [320, 1]).subarray(0, 5),
    'restored with unit 1',
  );
  t.same(regs((await raw.request(1, readPdu(8093, 2)))?.pdu), [320, 1]);
});

t.test('a frame with a bad CRC gets silence and changes nothing', async (t) => {
  const raw = await rawMaster(t);
  const read = rtuFrame(1, readPdu(8092, 4));
  read[read.length - 1] ^= 0x01;
  await raw.send(read);
  t.same([...(await raw.quiet(SILENCE_MS))], [], 'a read with a bad CRC: no reply');

  const write = rtuFrame(1, writeSinglePdu(8093, 100));
  write[write.length - 2] ^= 0x80;
  await raw.send(write);
  t.same([...(await raw.quiet(SILENCE_MS))], [], 'a write with a bad CRC: no reply');

  const body = rtuFrame(1, writeSinglePdu(8093, 100));
  body[5] = 99; // the value, with the CRC of 100
  await raw.send(body);
  t.same([...(await raw.quiet(SILENCE_MS))], [], 'a corrupted value: no reply');

  t.same(regs((await raw.request(1, readPdu(8092, 4)))?.pdu), [0, 320, 1, 0], 'the next good frame is answered; 8093 unchanged');
});

t.test('after 8040 = 5 the slave answers unit 5 and no longer unit 1; then back to 1', async (t) => {
  let restored = false;
  t.teardown(async () => {
    if (restored) return;
    const raw = await openRawRtuMaster(pty.masterPath, BAUD);
    await raw.request(5, writeSinglePdu(8040, 1), 2000);
    await raw.close();
  });
  const one = await serialClient(t, 1, 2000);
  t.same(await outcome(one.writeRegister(8040, 5)), { data: [5] }, 'unit 1 replies to the write itself');
  one.setTimeout(SILENCE_MS);
  t.same(await outcome(one.readHoldingRegisters(8092, 4)), { timeout: true }, 'unit 1 is silent now');
  one.setID(5);
  one.setTimeout(1000);
  t.same(await outcome(one.readHoldingRegisters(8040, 1)), { data: [5] }, 'unit 5 answers; 8040 reads 5');
  await closeClient(one);

  const five = await mbpoll(8092, 4, { unit: 5 });
  t.same(five.values, [0, 320, 1, 0], 'mbpoll on unit 5');
  const [py1, py5] = await pymodbus([
    { op: 'read', address: 8092, count: 1, unit: 1 },
    { op: 'write', address: 8040, value: 1, unit: 5 },
  ]);
  t.ok(py1?.error !== undefined && py1.registers === undefined, `pymodbus unit 1: no response (${JSON.stringify(py1)})`);
  t.same(py5, { ok: true }, 'pymodbus: 8040 = 1 through unit 5');
  restored = true;

  const raw = await rawMaster(t);
  t.equal(await raw.request(5, readPdu(8040, 1), SILENCE_MS), null, 'unit 5 is silent again');
  t.same(regs((await raw.request(1, readPdu(8040, 1)))?.pdu), [1], 'unit 1 answers; 8040 reads 1');
});

t.test('a car plugged in through the simulator shows 8092 = 2 over RTU', async (t) => {
  t.equal(await simPost('/sim/ev', { state: 'C' }), 200);
  t.teardown(async () => void (await simPost('/sim/ev', { state: 'A' })));
  const client = await serialClient(t);
  const read = async (): Promise<Outcome> => outcome(client.readHoldingRegisters(8092, 4));
  const charging = await pollUntil(read, (o) => 'data' in o && o.data[0] === 2 && o.data[3] === 320);
  t.same(charging, { data: [2, 320, 1, 320] }, '8092 = 2 (C), 8095 = 320: 32 A offered');
  t.equal(await simPost('/sim/ev', { state: 'A' }), 200);
  t.same(await pollUntil(read, (o) => 'data' in o && o.data[0] === 0), { data: [0, 320, 1, 0] }, 'unplugged: A again, nothing offered');
});

t.test('the firmware is still running and logged no error', async (t) => {
  t.equal(fw.child.exitCode, null);
  t.equal(fw.child.signalCode, null);
  t.same(
    fw.logs.filter((l) => l['level'] === 'error'),
    [],
  );
});

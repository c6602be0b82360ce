import t from 'tap';
import { checkRead, decodeWrite, encodeRegister, Exception, windowWords } from '../../firmware/modbus/codec.js';
import {
  REGISTERS,
  registerAt,
  WINDOW_END,
  WINDOW_START,
  type RegisterName,
  type RegisterValues,
} from '../../firmware/modbus/registers.js';

const def = (name: RegisterName) => REGISTERS.find((d) => d.name === name)!;

t.test('the map: no overlaps, everything inside the window, writable registers are single words with ranges', async (t) => {
  const used = new Set<number>();
  for (const d of REGISTERS) {
    for (let a = d.address; a < d.address + d.count; a++) {
      t.notOk(used.has(a), `${d.name}: address ${a} used once`);
      used.add(a);
    }
    t.ok(d.address >= WINDOW_START && d.address + d.count <= WINDOW_END, `${d.name} inside the window`);
    if (d.access !== 'r') t.ok(d.count === 1 && d.writable && d.writable.length > 0, `${d.name} writable as one word with a range`);
  }
  t.same(
    REGISTERS.filter((d) => d.storage === 'volatile').map((d) => d.address),
    [8086, 8087, 8093, 8094],
    'only 8086, 8087, 8093 and 8094 may be written often',
  );
});

t.test('values are big-endian words, high word first', async (t) => {
  t.same(encodeRegister(def('evseState'), 2), [2]);
  t.same(encodeRegister(def('vendorId'), 0x12345678), [0x1234, 0x5678]);
  t.same(encodeRegister(def('powerW'), -1), [0xffff, 0xffff], 'int32 -1');
  t.same(encodeRegister(def('powerW'), 22080), [0, 22080]);
  t.same(encodeRegister(def('currentL1'), -5), [0xffff, 0xfffb]);
  t.same(encodeRegister(def('energyWh'), 2 ** 40 + 5), [0, 0x100, 0, 5], 'uint64');
  t.same(encodeRegister(def('energyWh'), 1234567), [0, 0, 0x12, 0xd687]);
  t.same(encodeRegister(def('serialNumber'), 'AB1'), [0x4142, 0x3100, 0, 0, 0, 0, 0, 0], 'ASCII, zero padded');
  t.equal(encodeRegister(def('idTag'), 'X'.repeat(40)).length, 15, 'a long string is cut to the register');
});

t.test('the window: holes and write-only registers read 0', async (t) => {
  const values = Object.fromEntries(REGISTERS.map((d) => [d.name, d.type === 'string' ? 'S' : 7])) as unknown as RegisterValues;
  const words = windowWords(values);
  t.equal(words.length, 128);
  t.equal(words[8086 - 8000], 0, '8086 is write-only');
  t.equal(words[8041 - 8000], 0, 'a hole');
  t.equal(words[8127 - 8000], 0, 'the last register of the window is a hole');
  t.equal(words[8093 - 8000], 7);
  t.equal(words[8009 - 8000], 0, 'second word of the serial number');
  for (const [address, count] of [
    [8092, 6],
    [8000, 125],
    [8009, 3],
    [8097, 20],
    [8127, 1],
    [8058, 4],
  ] as const) {
    t.same(
      [...windowWords(values, address, count)],
      [...words.subarray(address - 8000, address - 8000 + count)],
      `a read of ${count} at ${address} encodes only what it touches, the same words`,
    );
  }
});

t.test('reads: quantity 1..125, and entirely inside 8000..8127', async (t) => {
  t.equal(checkRead(8000, 125), null);
  t.equal(checkRead(8127, 1), null);
  t.equal(checkRead(8003, 125), null);
  t.equal(checkRead(8004, 125), Exception.IllegalDataAddress, 'leaves the window at the end');
  t.equal(checkRead(7999, 1), Exception.IllegalDataAddress);
  t.equal(checkRead(8128, 1), Exception.IllegalDataAddress);
  t.equal(checkRead(0, 1), Exception.IllegalDataAddress);
  t.equal(checkRead(8000, 0), Exception.IllegalDataValue);
  t.equal(checkRead(8000, 126), Exception.IllegalDataValue);
});

t.test('writes: 02 for read-only registers, holes and outside the window; 03 for values out of range; all or nothing', async (t) => {
  t.same(decodeWrite(8093, [160]), [{ name: 'currentLimit', raw: 160 }]);
  t.same(decodeWrite(8093, [75, 1]), [
    { name: 'currentLimit', raw: 75 },
    { name: 'chargingEnable', raw: 1 },
  ]);
  t.equal(decodeWrite(8092, [1]), Exception.IllegalDataAddress, 'read-only');
  t.equal(decodeWrite(8041, [1]), Exception.IllegalDataAddress, 'a hole');
  t.equal(decodeWrite(8130, [1]), Exception.IllegalDataAddress, 'outside');
  t.equal(decodeWrite(8093, [160, 1, 0]), Exception.IllegalDataAddress, '8095 is read-only: the whole write is refused');
  t.equal(decodeWrite(8094, [2]), Exception.IllegalDataValue);
  t.equal(decodeWrite(8093, [801]), Exception.IllegalDataValue);
  t.equal(decodeWrite(8093, [100, 5]), Exception.IllegalDataValue, 'a bad second value refuses the first too');
  t.same(decodeWrite(8081, [0]), [{ name: 'bootLimit', raw: 0 }]);
  t.equal(decodeWrite(8081, [59]), Exception.IllegalDataValue, '8081: 0 or 60..800');
  t.equal(decodeWrite(8040, [0]), Exception.IllegalDataValue);
  t.equal(decodeWrite(8040, [248]), Exception.IllegalDataValue);
  t.equal(decodeWrite(8086, [0]), Exception.IllegalDataValue);
  t.equal(decodeWrite(8086, [61]), Exception.IllegalDataValue);
  t.equal(registerAt(8096)?.count, 15);
});

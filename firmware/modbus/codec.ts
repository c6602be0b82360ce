import { REGISTERS, registerAt, WINDOW_END, WINDOW_START, type RegisterDef, type RegisterName, type RegisterValues } from './registers.js';

/** Modbus exception codes used by the slave. */
export const Exception = {
  IllegalFunction: 0x01,
  IllegalDataAddress: 0x02,
  IllegalDataValue: 0x03,
  SlaveDeviceFailure: 0x04,
} as const;
export type ExceptionCode = (typeof Exception)[keyof typeof Exception];

/** A register value as 16-bit words, big-endian, high word first (CONTRACT §3). */
export function encodeRegister(def: RegisterDef, value: number | string): number[] {
  switch (def.type) {
    case 'uint16':
      return [Number(value) & 0xffff];
    case 'uint32':
    case 'int32': {
      const raw = Number(value) >>> 0; // int32 -1 becomes 0xFFFFFFFF
      return [raw >>> 16, raw & 0xffff];
    }
    case 'uint64': {
      let raw = BigInt.asUintN(64, BigInt(Math.max(0, Math.trunc(Number(value)))));
      const words: number[] = [];
      for (let i = 0; i < 4; i++) {
        words.unshift(Number(raw & 0xffffn));
        raw >>= 16n;
      }
      return words;
    }
    case 'string': {
      const bytes = Buffer.alloc(def.count * 2);
      bytes.write(String(value).replace(/[^\x20-\x7e]/g, '?'), 'latin1');
      return Array.from({ length: def.count }, (_, i) => bytes.readUInt16BE(i * 2));
    }
    default: {
      const never: never = def.type;
      throw new Error(`unknown register type ${String(never)}`);
    }
  }
}

/** The words of the window [WINDOW_START, WINDOW_END) for the given values; holes and write-only registers read 0. */
export function windowWords(values: RegisterValues, address = WINDOW_START, count = WINDOW_END - WINDOW_START): Uint16Array {
  const words = new Uint16Array(count);
  for (const def of REGISTERS) {
    // Only the registers the read touches are encoded: a master polling 6 registers every
    // second must not pay for the strings.
    if (def.access === 'w' || def.address >= address + count || def.address + def.count <= address) continue;
    encodeRegister(def, values[def.name]).forEach((word, i) => {
      const at = def.address - address + i;
      if (at >= 0 && at < count) words[at] = word;
    });
  }
  return words;
}

/** Checks a read of `count` registers at `address`: null when it may go ahead. */
export function checkRead(address: number, count: number): ExceptionCode | null {
  if (count < 1 || count > 125) return Exception.IllegalDataValue;
  if (address < WINDOW_START || address + count > WINDOW_END) return Exception.IllegalDataAddress;
  return null;
}

export interface RegisterWrite {
  readonly name: RegisterName;
  readonly raw: number;
}

/**
 * Decodes a write of `values` starting at `address` against the map: every register written
 * must be a writable single-word register (else 02) and every value in its range (else 03).
 * All or nothing: a failing write changes no register.
 */
export function decodeWrite(address: number, values: readonly number[]): RegisterWrite[] | ExceptionCode {
  const writes: RegisterWrite[] = [];
  for (let i = 0; i < values.length; i++) {
    const def = registerAt(address + i);
    if (!def || def.access === 'r' || def.count !== 1 || !def.writable) return Exception.IllegalDataAddress;
  }
  for (let i = 0; i < values.length; i++) {
    const def = registerAt(address + i) as RegisterDef;
    const raw = values[i] as number;
    if (!def.writable?.some(([min, max]) => raw >= min && raw <= max)) return Exception.IllegalDataValue;
    writes.push({ name: def.name, raw });
  }
  return writes;
}

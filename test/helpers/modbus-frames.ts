import { SerialPort } from 'serialport';
import { decodeWrite } from '../../firmware/modbus/codec.js';
import { crcValid, withCrc } from '../../firmware/modbus/crc.js';
import { REGISTERS, WINDOW_END, WINDOW_START } from '../../firmware/modbus/registers.js';
import { pick, prng } from './prng.js';

/**
 * Modbus frames for the transport tests: builders for correct requests, the contract's answer to
 * a request PDU (CONTRACT §3), and a seeded generator of MALFORMED requests for TCP (MBAP) and RTU
 * that never sends anything able to change a register: every byte stream it plans is checked the
 * way the slave would parse it, so not even frames that run together can form such a write.
 */

export const FC_READ = 0x03;
export const FC_WRITE_SINGLE = 0x06;
export const FC_WRITE_MULTIPLE = 0x10;

const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];

/** FC03 request PDU. */
export const readPdu = (address: number, count: number): Buffer => Buffer.from([FC_READ, ...u16(address), ...u16(count)]);
/** FC06 request PDU. */
export const writeSinglePdu = (address: number, value: number): Buffer => Buffer.from([FC_WRITE_SINGLE, ...u16(address), ...u16(value)]);
/** FC16 request PDU. */
export const writeMultiplePdu = (address: number, values: readonly number[]): Buffer =>
  Buffer.from([FC_WRITE_MULTIPLE, ...u16(address), ...u16(values.length), (values.length * 2) & 0xff, ...values.flatMap(u16)]);

/** An RTU frame: unit, PDU, CRC (low byte first). */
export const rtuFrame = (unit: number, pdu: Uint8Array): Buffer => withCrc(Buffer.from([unit, ...pdu]));

/** A Modbus TCP frame: MBAP header (transaction id, protocol 0, length) and PDU. */
export const tcpFrame = (tid: number, unit: number, pdu: Uint8Array): Buffer =>
  Buffer.from([...u16(tid), 0, 0, ...u16(pdu.length + 1), unit, ...pdu]);

/** The ways the contract answers a request PDU; `code: null` = some exception (a malformed PDU). */
export type ContractAnswer =
  | { readonly kind: 'read'; readonly address: number; readonly count: number }
  | { readonly kind: 'write' }
  | { readonly kind: 'exception'; readonly code: number | null };

/**
 * The answer CONTRACT §3 (and the Modbus order of checks: function, quantity, address, value)
 * prescribes for a request PDU. A well-formed write the map accepts is `write`.
 */
export function contractAnswer(pdu: Buffer): ContractAnswer {
  const fc = pdu[0];
  if (fc === undefined) return { kind: 'exception', code: null };
  switch (fc) {
    case FC_READ: {
      if (pdu.length !== 5) return { kind: 'exception', code: null };
      const address = pdu.readUInt16BE(1);
      const count = pdu.readUInt16BE(3);
      if (count < 1 || count > 125) return { kind: 'exception', code: 3 };
      if (address < WINDOW_START || address + count > WINDOW_END) return { kind: 'exception', code: 2 };
      return { kind: 'read', address, count };
    }
    case FC_WRITE_SINGLE: {
      if (pdu.length !== 5) return { kind: 'exception', code: null };
      const writes = decodeWrite(pdu.readUInt16BE(1), [pdu.readUInt16BE(3)]);
      return typeof writes === 'number' ? { kind: 'exception', code: writes } : { kind: 'write' };
    }
    case FC_WRITE_MULTIPLE: {
      if (pdu.length < 6) return { kind: 'exception', code: null };
      const count = pdu.readUInt16BE(3);
      const byteCount = pdu[5] as number;
      if (count < 1 || count > 123 || byteCount !== count * 2) return { kind: 'exception', code: 3 };
      if (pdu.length !== 6 + byteCount) return { kind: 'exception', code: null };
      const values = Array.from({ length: count }, (_, i) => pdu.readUInt16BE(6 + i * 2));
      const writes = decodeWrite(pdu.readUInt16BE(1), values);
      return typeof writes === 'number' ? { kind: 'exception', code: writes } : { kind: 'write' };
    }
    default:
      return { kind: 'exception', code: 1 };
  }
}

/** A well-formed FC06/FC16 request whose writes `decodeWrite` accepts: it could change a register. */
export function isChangingWrite(pdu: Buffer): boolean {
  return contractAnswer(pdu).kind === 'write';
}

// ---------------------------------------------------------------------------------------------
// Parsing the streams the way a slave does

export interface MbapFrame {
  readonly tid: number;
  readonly unit: number;
  readonly pdu: Buffer;
}

/**
 * Splits a Modbus TCP byte stream into frames by the MBAP rules: protocol id 0, length field
 * 2..254 (unit id + a PDU of at most 253 bytes). A header breaking them makes the rest of the
 * stream untrustworthy. `rest` is an incomplete frame still waiting for bytes.
 */
export function parseMbap(stream: Buffer): { frames: MbapFrame[]; rest: Buffer; untrustworthy: boolean } {
  const frames: MbapFrame[] = [];
  let offset = 0;
  while (stream.length - offset >= 7) {
    const protocolId = stream.readUInt16BE(offset + 2);
    const length = stream.readUInt16BE(offset + 4);
    if (protocolId !== 0 || length < 2 || length > 254) return { frames, rest: stream.subarray(offset), untrustworthy: true };
    if (stream.length - offset < 6 + length) break;
    frames.push({
      tid: stream.readUInt16BE(offset),
      unit: stream[offset + 6] as number,
      pdu: Buffer.from(stream.subarray(offset + 7, offset + 6 + length)),
    });
    offset += 6 + length;
  }
  return { frames, rest: stream.subarray(offset), untrustworthy: false };
}

/** The length of an RTU request (CRC included) that starts at `offset`, as its function code tells; null when it does not. */
function rtuRequestLength(stream: Buffer, offset: number): number | null {
  const fc = stream[offset + 1];
  if (fc === undefined) return null;
  if (fc >= 0x01 && fc <= 0x06) return 8;
  if (fc === 0x0f || fc === 0x10) {
    const byteCount = stream[offset + 6];
    return byteCount === undefined ? null : 9 + byteCount;
  }
  return null;
}

/**
 * Whether any request that an RTU slave could cut out of `stream` (at any byte offset: frame
 * boundaries depend on the timing of silences) and that ends at or after `from` is a CRC-valid,
 * changing write for one of `units`. A frame cut at a silence can only be as long as the
 * length its function code tells or shorter, and a shorter one is no well-formed write.
 */
export function rtuStreamHasChangingWrite(stream: Buffer, from: number, units: readonly number[]): boolean {
  for (let offset = Math.max(0, from - 300); offset < stream.length; offset++) {
    if (!units.includes(stream[offset] as number)) continue;
    const length = rtuRequestLength(stream, offset);
    if (length === null || offset + length > stream.length || offset + length <= from) continue;
    const frame = stream.subarray(offset, offset + length);
    if (crcValid(frame) && isChangingWrite(Buffer.from(frame.subarray(1, length - 2)))) return true;
  }
  return false;
}

export interface RtuResponse {
  readonly unit: number;
  readonly pdu: Buffer;
}

/** The length of an RTU response frame that starts at `offset`; null while too little is in, or for a function code no slave answers with. */
function rtuResponseLength(stream: Buffer, offset: number): number | 'invalid' | null {
  const fc = stream[offset + 1];
  if (fc === undefined) return null;
  if (fc & 0x80) return 5;
  if (fc === FC_READ) {
    const byteCount = stream[offset + 2];
    return byteCount === undefined ? null : 5 + byteCount;
  }
  if (fc === FC_WRITE_SINGLE || fc === FC_WRITE_MULTIPLE) return 8;
  return 'invalid';
}

/**
 * Splits the bytes a slave sent on RTU into response frames, checking every CRC; throws naming the
 * offset and bytes when the stream is not a sequence of well-formed responses.
 */
export function splitRtuResponses(stream: Buffer): RtuResponse[] {
  const responses: RtuResponse[] = [];
  let offset = 0;
  while (offset < stream.length) {
    const length = rtuResponseLength(stream, offset);
    const context = (): string => `at offset ${offset}: ${stream.subarray(offset, offset + 16).toString('hex')}`;
    if (length === 'invalid') throw new Error(`not a response frame ${context()}`);
    if (length === null || offset + length > stream.length) throw new Error(`incomplete response frame ${context()}`);
    const frame = stream.subarray(offset, offset + length);
    if (!crcValid(frame)) throw new Error(`bad CRC in a response ${context()}`);
    responses.push({ unit: frame[0] as number, pdu: Buffer.from(frame.subarray(1, length - 2)) });
    offset += length;
  }
  return responses;
}

// ---------------------------------------------------------------------------------------------
// The generator of malformed requests

/** Register addresses in the window that no write may target: read-only registers (every word) and holes. */
const NOT_WRITABLE: number[] = (() => {
  const writable = new Set(REGISTERS.filter((d) => d.access !== 'r' && d.count === 1 && d.writable).map((d) => d.address));
  const out: number[] = [];
  for (let a = WINDOW_START; a < WINDOW_END; a++) if (!writable.has(a)) out.push(a);
  return out;
})();

const WRITABLE = REGISTERS.filter((d) => d.access !== 'r' && d.count === 1 && d.writable);

const KNOWN_FCS = new Set([FC_READ, FC_WRITE_SINGLE, FC_WRITE_MULTIPLE]);

export interface MalformedRequest {
  readonly category: string;
  readonly unit: number;
  readonly pdu: Buffer;
}

/**
 * A seeded source of malformed Modbus requests (mulberry32, test/helpers/prng.ts): unknown
 * function codes, bad quantities, reads leaving the window, writes to read-only registers or
 * holes, values out of range, wrong PDU lengths, wrong unit ids; and on the transports random
 * bytes, truncated and oversized frames, wrong protocol ids and lying length fields (TCP), bad
 * CRCs (RTU).
 */
export class MalformedFrames {
  readonly #random: () => number;
  readonly #unit: number;

  /** `unit` is the slave's unit id (8040). */
  constructor(seed: number, unit = 1) {
    this.#random = prng(seed);
    this.#unit = unit;
  }

  #int(min: number, max: number): number {
    return min + Math.floor(this.#random() * (max - min + 1));
  }

  #chance(p: number): boolean {
    return this.#random() < p;
  }

  #bytes(length: number): number[] {
    return Array.from({ length }, () => this.#int(0, 255));
  }

  #outOfRange(ranges: ReadonlyArray<readonly [number, number]>): number {
    for (;;) {
      const candidates = [...ranges.flatMap(([min, max]) => [min - 1, max + 1]), this.#int(0, 0xffff), 0xffff, 0x8000];
      const value = pick(this.#random, candidates);
      if (value >= 0 && value <= 0xffff && !ranges.some(([min, max]) => value >= min && value <= max)) return value;
    }
  }

  /** A malformed request PDU with the unit it goes to, `answered` = the unit ids the slave acts on. */
  request(answered: readonly number[]): MalformedRequest {
    const roll = this.#random();
    if (roll < 0.1) {
      // A well-formed request of any kind (writes too) for a unit the slave must ignore.
      let unit: number;
      do unit = this.#int(0, 255);
      while (answered.includes(unit));
      return { category: 'wrong unit', unit, pdu: this.#anyWellFormed() };
    }
    const unit = this.#chance(0.85) ? this.#unit : pick(this.#random, answered);
    return { unit, ...this.#malformedPdu() };
  }

  #anyWellFormed(): Buffer {
    const writable = pick(this.#random, WRITABLE);
    const ranges = writable.writable ?? [];
    const [min, max] = pick(this.#random, ranges);
    return pick(this.#random, [
      () => readPdu(this.#int(WINDOW_START, WINDOW_END - 1), 1),
      () => readPdu(WINDOW_START, 125),
      () => writeSinglePdu(writable.address, this.#int(min, max)),
      () => writeMultiplePdu(8093, [this.#int(0, 800), this.#int(0, 1)]),
    ])();
  }

  #malformedPdu(): { category: string; pdu: Buffer } {
    const kind = this.#int(0, 10);
    switch (kind) {
      case 0: {
        let fc: number;
        do
          fc = this.#chance(0.5)
            ? pick(this.#random, [0, 1, 2, 4, 5, 7, 8, 11, 12, 15, 17, 20, 21, 22, 23, 24, 43, 0x83, 0x86, 0x90])
            : this.#int(0, 255);
        while (KNOWN_FCS.has(fc));
        return { category: 'unknown function code', pdu: Buffer.from([fc, ...this.#bytes(this.#int(0, 8))]) };
      }
      case 1:
        return {
          category: 'read: bad quantity',
          pdu: readPdu(
            this.#int(WINDOW_START, WINDOW_END - 1),
            pick(this.#random, [0, 126, 127, 250, 0x7fff, 0xffff, this.#int(126, 0xffff)]),
          ),
        };
      case 2: {
        const count = this.#int(1, 125);
        const address = pick(this.#random, [
          this.#int(0, WINDOW_START - 1),
          this.#int(Math.max(0, WINDOW_START - count), WINDOW_START - 1),
          this.#int(WINDOW_END - count + 1, WINDOW_END - 1),
          this.#int(WINDOW_END, 0xffff),
          0xffff,
        ]);
        return { category: 'read: outside the window', pdu: readPdu(address, count) };
      }
      case 3: {
        const full = [...readPdu(this.#int(WINDOW_START, WINDOW_END - 4), this.#int(1, 4))];
        const pdu = this.#chance(0.5) ? full.slice(0, this.#int(1, 4)) : [...full, ...this.#bytes(this.#int(1, 6))];
        return { category: 'read: wrong PDU length', pdu: Buffer.from(pdu) };
      }
      case 4: {
        const address = this.#chance(0.8)
          ? pick(this.#random, NOT_WRITABLE)
          : pick(this.#random, [this.#int(0, WINDOW_START - 1), this.#int(WINDOW_END, 0xffff)]);
        return { category: 'write: read-only, hole or outside', pdu: writeSinglePdu(address, this.#int(0, 0xffff)) };
      }
      case 5: {
        const def = pick(this.#random, WRITABLE);
        return { category: `write: ${def.address} out of range`, pdu: writeSinglePdu(def.address, this.#outOfRange(def.writable ?? [])) };
      }
      case 6: {
        const def = pick(this.#random, WRITABLE);
        const [min] = pick(this.#random, def.writable ?? [[0, 0]]);
        const full = [...writeSinglePdu(def.address, min)];
        const pdu = this.#chance(0.5) ? full.slice(0, this.#int(1, 4)) : [...full, ...this.#bytes(this.#int(1, 6))];
        return { category: 'write: wrong PDU length', pdu: Buffer.from(pdu) };
      }
      case 7: {
        // FC16 with a bad quantity or byte count.
        const count = pick(this.#random, [0, 124, 125, 200, 0xffff, this.#int(124, 0xffff)]);
        const values = Array.from({ length: this.#int(0, 4) }, () => this.#int(0, 800));
        const byteCount = this.#int(0, 255);
        return {
          category: 'write multiple: bad quantity',
          pdu: Buffer.from([FC_WRITE_MULTIPLE, ...u16(8093), ...u16(count), byteCount & 0xff, ...values.flatMap(u16)]),
        };
      }
      case 8: {
        // FC16 whose byte count or length does not match the quantity.
        const values = [this.#int(0, 800), this.#int(0, 1)];
        const full = [...writeMultiplePdu(8093, values)];
        const variant = this.#int(0, 2);
        if (variant === 0) full[5] = pick(this.#random, [0, 1, 3, 5, 6, 255]);
        const pdu =
          variant === 1 ? full.slice(0, this.#int(1, full.length - 1)) : variant === 2 ? [...full, ...this.#bytes(this.#int(1, 4))] : full;
        return { category: 'write multiple: length mismatch', pdu: Buffer.from(pdu) };
      }
      case 9: {
        // FC16 that leaves the map or touches a read-only register or hole.
        const address = pick(this.#random, [...NOT_WRITABLE, 8092, 8095, 8127, 7999, this.#int(0, 0xffff)]);
        const values = Array.from({ length: this.#int(1, 6) }, () => this.#int(0, 1));
        return { category: 'write multiple: not writable', pdu: writeMultiplePdu(address, values) };
      }
      default: {
        // FC16 to writable registers with one value out of range: all or nothing.
        const variants: Array<[number, number[]]> = [
          [8093, [this.#int(0, 800), this.#int(2, 0xffff)]],
          [8093, [this.#int(801, 0xffff), this.#int(0, 1)]],
          [8093, [this.#int(801, 0xffff)]],
          [8094, [this.#int(2, 0xffff)]],
          [8040, [pick(this.#random, [0, 248, 255, this.#int(248, 0xffff)])]],
          [8081, [pick(this.#random, [1, 59, 801, this.#int(1, 59), this.#int(801, 0xffff)])]],
          [8086, [pick(this.#random, [0, 61, this.#int(61, 0xffff)])]],
          [8086, [this.#int(1, 60), this.#int(2, 0xffff)]],
        ];
        const [address, values] = pick(this.#random, variants);
        return { category: 'write multiple: value out of range', pdu: writeMultiplePdu(address, values) };
      }
    }
  }

  /** A malformed Modbus TCP frame (MBAP), `answered` = the unit ids the slave answers on TCP. */
  tcp(tid: number, answered: readonly number[]): { category: string; bytes: Buffer } {
    const roll = this.#random();
    if (roll < 0.85) {
      const request = this.request(answered);
      return { category: request.category, bytes: tcpFrame(tid, request.unit, request.pdu) };
    }
    const base = tcpFrame(tid, this.#unit, this.#chance(0.5) ? this.#anyWellFormed() : this.#malformedPdu().pdu);
    const kind = this.#int(0, 5);
    switch (kind) {
      case 0: {
        const bytes = Buffer.from(base);
        bytes.writeUInt16BE(this.#int(1, 0xffff), 2);
        return { category: 'tcp: wrong protocol id', bytes };
      }
      case 1: {
        const bytes = Buffer.from(base);
        bytes.writeUInt16BE(pick(this.#random, [0, 1, 255, 256, 0xffff, this.#int(255, 0xffff)]), 4);
        return { category: 'tcp: length field out of range', bytes };
      }
      case 2: {
        const bytes = Buffer.from(base);
        const actual = bytes.readUInt16BE(4);
        let lie: number;
        do lie = this.#chance(0.5) ? this.#int(2, Math.min(254, actual + 8)) : this.#int(2, 254);
        while (lie === actual);
        bytes.writeUInt16BE(lie, 4);
        return { category: 'tcp: lying length field', bytes };
      }
      case 3:
        return { category: 'tcp: truncated', bytes: base.subarray(0, this.#int(1, base.length - 1)) };
      case 4: {
        const pdu = Buffer.from([
          this.#chance(0.5) ? FC_READ : this.#int(0, 255),
          ...this.#bytes(this.#chance(0.5) ? 252 : this.#int(200, 300)),
        ]);
        const bytes = Buffer.concat([Buffer.from([...u16(tid), 0, 0, ...u16(Math.min(pdu.length + 1, 0xffff)), this.#unit]), pdu]);
        return { category: 'tcp: oversized', bytes };
      }
      default:
        return { category: 'random bytes', bytes: Buffer.from(this.#bytes(this.#int(1, this.#chance(0.9) ? 16 : 300))) };
    }
  }

  /** A malformed Modbus RTU frame, `answered` = the unit ids the slave acts on (its own and 0). */
  rtu(answered: readonly number[]): { category: string; bytes: Buffer } {
    const roll = this.#random();
    if (roll < 0.6) {
      const request = this.request(answered);
      return { category: request.category, bytes: rtuFrame(request.unit, request.pdu) };
    }
    const base = rtuFrame(this.#unit, this.#chance(0.6) ? this.#anyWellFormed() : this.#malformedPdu().pdu);
    const kind = this.#int(0, 3);
    switch (kind) {
      case 0: {
        const bytes = Buffer.from(base);
        const at = this.#chance(0.5) ? bytes.length - 1 - this.#int(0, 1) : this.#int(0, bytes.length - 1);
        bytes[at] = ((bytes[at] as number) ^ this.#int(1, 255)) & 0xff;
        return { category: 'rtu: bad CRC', bytes };
      }
      case 1:
        return { category: 'rtu: truncated', bytes: base.subarray(0, this.#int(1, base.length - 1)) };
      case 2: {
        const body = [this.#unit, this.#chance(0.5) ? FC_READ : this.#int(0, 255), ...this.#bytes(this.#int(256, 400))];
        return { category: 'rtu: oversized', bytes: this.#chance(0.5) ? withCrc(Buffer.from(body)) : Buffer.from(body) };
      }
      default:
        return { category: 'random bytes', bytes: Buffer.from(this.#bytes(this.#int(1, this.#chance(0.9) ? 16 : 300))) };
    }
  }
}

/** What one Modbus TCP connection of the fuzz run sends, and the answers it must get. */
export interface TcpConnectionPlan {
  readonly frames: Buffer[];
  readonly categories: string[];
  /** The frames the slave must answer, in order (the stream split as a slave splits it). */
  readonly answered: MbapFrame[];
  /** The last frame makes the stream untrustworthy: the slave may close the connection. */
  readonly untrustworthy: boolean;
  /** The stream ends inside a frame (the slave waits for the rest of it). */
  readonly incomplete: boolean;
}

/**
 * Plans `total` malformed TCP frames over as many connections as it takes: a connection ends after
 * a frame that makes the stream untrustworthy, or after `perConnection` frames. A frame that would
 * let the slave's MBAP split produce a changing write for an answered unit is not sent.
 */
export function planTcpFuzz(seed: number, total: number, options: { unit: number; perConnection: number }): TcpConnectionPlan[] {
  const answeredUnits = [options.unit, 0, 255];
  const gen = new MalformedFrames(seed, options.unit);
  const plans: TcpConnectionPlan[] = [];
  const fresh = (): { frames: Buffer[]; categories: string[]; answered: MbapFrame[]; untrustworthy: boolean; incomplete: boolean } => ({
    frames: [],
    categories: [],
    answered: [],
    untrustworthy: false,
    incomplete: false,
  });
  let plan = fresh();
  let pending: Buffer = Buffer.alloc(0);
  let tid = 1;
  let refused = 0;
  for (let sent = 0; sent < total;) {
    const candidate = gen.tcp(tid, answeredUnits);
    const parsed = parseMbap(Buffer.concat([pending, candidate.bytes]));
    const answered = parsed.frames.filter((f) => answeredUnits.includes(f.unit));
    if (answered.some((f) => isChangingWrite(f.pdu))) {
      // An incomplete frame can leave no way on (e.g. an FC06 to 8093 waiting for its value's
      // low byte): end the connection there, the slave drops the incomplete frame with it.
      if (++refused >= 20 && plan.frames.length > 0) {
        plan.incomplete = pending.length > 0;
        plans.push(plan);
        plan = fresh();
        pending = Buffer.alloc(0);
      }
      if (refused > 10_000) throw new Error('planTcpFuzz: no frame fits');
      continue;
    }
    refused = 0;
    tid = (tid + 1) & 0xffff;
    sent++;
    plan.frames.push(candidate.bytes);
    plan.categories.push(candidate.category);
    plan.answered.push(...answered);
    pending = parsed.rest;
    if (parsed.untrustworthy || plan.frames.length >= options.perConnection || sent === total) {
      plan.untrustworthy = parsed.untrustworthy;
      plan.incomplete = !parsed.untrustworthy && parsed.rest.length > 0;
      plans.push(plan);
      plan = fresh();
      pending = Buffer.alloc(0);
    }
  }
  return plans;
}

/**
 * Plans `total` malformed RTU frames in bursts of `burst` frames. In a burst the frames a slave
 * can take by their length (CRC valid, as long as their function code tells) come first, so that
 * they reach the slave's PDU engine before a frame that derails the framing (bad CRC, truncated,
 * unknown function code) makes it drop the rest of the burst until the pause. The whole stream is
 * checked as one: no request a slave could cut out of it at any offset is a changing write for
 * `unit` or a broadcast; a burst that holds one is drawn again.
 */
export function planRtuFuzz(
  seed: number,
  total: number,
  options: { unit: number; burst: number },
): { bursts: Buffer[][]; categories: Map<string, number> } {
  const acted = [options.unit, 0];
  const gen = new MalformedFrames(seed, options.unit);
  const bursts: Buffer[][] = [];
  const categories = new Map<string, number>();
  let tail: Buffer = Buffer.alloc(0);
  let refused = 0;
  for (let sent = 0; sent < total;) {
    const size = Math.min(options.burst, total - sent);
    const drawn = Array.from({ length: size }, () => gen.rtu(acted));
    const takenByLength = (bytes: Buffer): boolean => rtuRequestLength(bytes, 0) === bytes.length && crcValid(bytes);
    const ordered = [...drawn.filter((f) => takenByLength(f.bytes)), ...drawn.filter((f) => !takenByLength(f.bytes))];
    const stream = Buffer.concat([tail, ...ordered.map((f) => f.bytes)]);
    if (rtuStreamHasChangingWrite(stream, tail.length, acted)) {
      if (++refused > 1000) throw new Error('planRtuFuzz: no burst fits');
      continue;
    }
    refused = 0;
    tail = stream.subarray(Math.max(0, stream.length - 300));
    sent += size;
    bursts.push(ordered.map((f) => f.bytes));
    for (const f of ordered) categories.set(f.category, (categories.get(f.category) ?? 0) + 1);
  }
  return { bursts, categories };
}

// ---------------------------------------------------------------------------------------------
// A raw RTU master on a serial device

export interface RawRtuMaster {
  /** Writes bytes as they are and waits until the OS has them. */
  send(bytes: Buffer): Promise<void>;
  /** Sends a request and resolves with the first complete response frame, or null after `timeoutMs` of nothing complete. */
  request(unit: number, pdu: Buffer, timeoutMs?: number): Promise<RtuResponse | null>;
  /** Resolves with everything received (and not yet taken) once nothing has arrived for `quietMs`; gives up after `maxMs`. */
  quiet(quietMs: number, maxMs?: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Opens `path` (e.g. the master end of a socat pty pair) as a raw RTU master. */
export async function openRawRtuMaster(path: string, baudRate = 19200): Promise<RawRtuMaster> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  let received: Buffer = Buffer.alloc(0);
  const listeners = new Set<() => void>();
  port.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    for (const listener of [...listeners]) listener();
  });
  const send = (bytes: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      port.write(bytes, (err) => {
        if (err) return reject(err);
        port.drain((drainErr) => (drainErr ? reject(drainErr) : resolve()));
      });
    });
  return {
    send,
    async request(unit, pdu, timeoutMs = 1000) {
      received = Buffer.alloc(0);
      await send(rtuFrame(unit, pdu));
      return new Promise<RtuResponse | null>((resolve) => {
        const check = (): void => {
          const length = rtuResponseLength(received, 0);
          if (length === null || (typeof length === 'number' && received.length < length)) return;
          finish();
          const frame = typeof length === 'number' ? received.subarray(0, length) : received;
          received = received.subarray(frame.length);
          resolve(
            crcValid(frame)
              ? { unit: frame[0] as number, pdu: Buffer.from(frame.subarray(1, frame.length - 2)) }
              : { unit: -1, pdu: Buffer.from(frame) },
          );
        };
        const timer = setTimeout(() => {
          finish();
          resolve(null);
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    quiet(quietMs, maxMs = 5000) {
      return new Promise<Buffer>((resolve, reject) => {
        let timer = setTimeout(done, quietMs);
        const hardStop = setTimeout(() => {
          cleanup();
          reject(new Error(`the line did not go quiet within ${maxMs} ms`));
        }, maxMs);
        const bump = (): void => {
          clearTimeout(timer);
          timer = setTimeout(done, quietMs);
        };
        function cleanup(): void {
          clearTimeout(timer);
          clearTimeout(hardStop);
          listeners.delete(bump);
        }
        function done(): void {
          cleanup();
          const out = received;
          received = Buffer.alloc(0);
          resolve(out);
        }
        listeners.add(bump);
      });
    },
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}

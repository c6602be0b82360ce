import { createPublicKey } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Identification, Meter, MeterReading, SigningMeter, SigningMeterIdentity } from '../meter.js';
import type { Rs485Settings } from '../rs485-port.js';
import { openRtuMaster } from './modbus-client.js';
import { MeterPoller, type MeterReporter } from './meter-poller.js';

/**
 * Register map of the Iskra WM3M4C, a three-phase MID / calibration-law meter that signs OCMF
 * records, as its user manual (K_WM3M4_EN_22433922, v1.14, chapter 6) describes it and EVerest's
 * RsIskraMeter module drives it. Addresses are Modbus PDU addresses.
 * Input registers (FC04): model (16 ASCII chars) from 1, serial (8) from 9, voltages L1..L3
 * (T5) at 107/109/111, currents (T6) at 126/128/130, total active power (T6) at 140, the import
 * energy counter's decade exponent at 414 and its 32-bit value at 418.
 * Holding registers (FC03/06/16): the signing state machine from 7000.
 */
const INPUT = {
  model: 1,
  serial: 9,
  voltages: [107, 109, 111],
  currents: [126, 128, 130],
  totalPower: 140,
  energyExponent: 414,
  energy: 418,
} as const;
const HOLDING = {
  /** 0 idle, 1 transaction active, 2 active after a power failure, 3 active after a reset (table 6). */
  state: 7000,
  /** 'B' (0x42) in the high byte begins a transaction, 0x72 ends it (as EVerest writes them). */
  command: 7051,
  /** Signature status (table 11): 15 signature OK; 0..2 still working; 128 and up an error. */
  signatureStatus: 7052,
  timeZoneMin: 7053,
  unixTimeHigh: 7054,
  unixTimeLow: 7055,
  metadataLength: 7056,
  recordLength: 7057,
  signatureLength: 7058,
  signatureAlgorithm: 7059,
  /** 2: the host set the time (synchronised). */
  timeStatus: 7071,
  metadata: 7100,
  record: 7612,
  /** The public key's X and Y (64 bytes, 32 registers). */
  publicKey: 8124,
  signature: 8188,
} as const;

const COMMAND_BEGIN = 0x4200;
const COMMAND_END = 0x7200;
const SIGNATURE_OK = 15;
/** DER prefix of a P-256 SubjectPublicKeyInfo (id-ecPublicKey, prime256v1, uncompressed point 04), manual 6.5.14. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072A8648CE3D020106082A8648CE3D03010703420004', 'hex');
/** At most this many registers per request (Modbus: 125 read, 123 write). */
const MAX_REGISTERS = 120;
const STATE_WAIT_MS = 1000;
const SIGNATURE_WAIT_MS = 15_000;
const POLL_STEP_MS = 20;

/** What the driver needs of a Modbus RTU master for this meter. */
export interface IskraBus {
  readInputRegisters(address: number, count: number): Promise<Buffer>;
  readHoldingRegisters(address: number, count: number): Promise<Buffer>;
  writeRegister(address: number, value: number): Promise<void>;
  writeRegisters(address: number, values: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

export interface IskraOptions {
  readonly bus: IskraBus;
  readonly clock: Clock;
  readonly log: MeterReporter;
  /** Who passes the records on (OCMF GI, GS, GV: the gateway); the meter signs them in. */
  readonly gateway: { readonly identification: string; readonly serial: string; readonly version: string };
  readonly pollMs?: number;
}

/** OCMF user assignment per identification type (OCMF tables 11, 13, 14). */
const ASSIGNMENT: Record<Identification['type'], { IS: boolean; IF: string[] }> = {
  ISO14443: { IS: true, IF: ['RFID_PLAIN'] },
  CENTRAL: { IS: true, IF: ['OCPP_RS'] },
  LOCAL: { IS: false, IF: [] },
};

/**
 * The Iskra WM3M4C on its RS-485 bus: readings every second like the SDM630 driver, and the
 * meter's signed transactions (CONTRACT §9). The meter builds and signs the OCMF payload; the
 * driver only wraps it with its signature as `OCMF|{payload}|{"SA":…,"SD":…}`. One request at a
 * time goes on the bus.
 */
export class IskraWm3m4cMeter implements Meter, SigningMeter {
  readonly signing: SigningMeter = this;
  readonly #o: IskraOptions;
  readonly #poller: MeterPoller;
  #bus: Promise<unknown> = Promise.resolve();

  constructor(options: IskraOptions) {
    this.#o = options;
    this.#poller = new MeterPoller({
      clock: options.clock,
      log: options.log,
      pollMs: options.pollMs ?? 1000,
      read: () => this.#exclusive(() => this.#read()),
    });
  }

  latest(): MeterReading | null {
    return this.#poller.latest;
  }

  /** One poll (the timer calls it; tests may too). */
  poll(): Promise<void> {
    return this.#poller.poll();
  }

  identity(): Promise<SigningMeterIdentity> {
    return this.#exclusive(async () => {
      const model = ascii(await this.#o.bus.readInputRegisters(INPUT.model, 8));
      const serial = ascii(await this.#o.bus.readInputRegisters(INPUT.serial, 4));
      const point = await this.#o.bus.readHoldingRegisters(HOLDING.publicKey, 32);
      const der = Buffer.concat([P256_SPKI_PREFIX, point]);
      const publicKeyPem = createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
      return { meterType: `Iskra ${model}`, meterSerialNumber: serial, publicKeyPem };
    });
  }

  beginTransaction(identification: Identification): Promise<string> {
    return this.#exclusive(async () => {
      const state = await this.#holding(HOLDING.state);
      if (state !== 0) throw new Error(`the meter has a transaction open (state ${state})`);
      await this.#prepare(identification);
      await this.#o.bus.writeRegister(HOLDING.command, COMMAND_BEGIN);
      await this.#waitFor(HOLDING.state, (s) => s === 1, STATE_WAIT_MS, 'transaction active');
      return this.#signedRecord();
    });
  }

  endTransaction(): Promise<string | null> {
    return this.#exclusive(async () => {
      const state = await this.#holding(HOLDING.state);
      if (state === 0) return null;
      // Manual 6.6: after a power failure the meter needs the time and the metadata again.
      if (state === 2) await this.#prepare(null);
      await this.#o.bus.writeRegister(HOLDING.command, COMMAND_END);
      await this.#waitFor(HOLDING.state, (s) => s === 0, STATE_WAIT_MS, 'idle');
      return this.#signedRecord();
    });
  }

  close(): void {
    this.#poller.stop();
    void this.#exclusive(() => this.#o.bus.close());
  }

  /** The meter's clock (UTC, synchronised), the signature algorithm and the transaction's metadata. */
  async #prepare(identification: Identification | null): Promise<void> {
    const { bus, clock, gateway } = this.#o;
    const unixS = Math.floor(clock.now() / 1000);
    await bus.writeRegister(HOLDING.unixTimeHigh, (unixS >>> 16) & 0xffff);
    await bus.writeRegister(HOLDING.unixTimeLow, unixS & 0xffff);
    await bus.writeRegister(HOLDING.timeZoneMin, 0);
    await bus.writeRegister(HOLDING.timeStatus, 2);
    await bus.writeRegister(HOLDING.signatureAlgorithm, 0);
    const assignment = identification ? ASSIGNMENT[identification.type] : { IS: false, IF: [] };
    // The fields the meter takes from the host (manual 6.5.15); it fills in PG, the meter's own and RD.
    const metadata = JSON.stringify({
      FV: '1.0',
      GI: clean(gateway.identification),
      GS: clean(gateway.serial),
      GV: clean(gateway.version),
      IS: assignment.IS,
      IF: assignment.IF,
      IT: identification?.type ?? 'NONE',
      ID: clean(identification?.idTag ?? ''),
    });
    const words = toWords(Buffer.from(metadata, 'ascii'));
    for (let i = 0; i < words.length; i += MAX_REGISTERS) await bus.writeRegisters(HOLDING.metadata + i, words.slice(i, i + MAX_REGISTERS));
    await bus.writeRegister(HOLDING.metadataLength, metadata.length);
  }

  /** Waits for the signature, then reads the payload and the signature as the meter made them. */
  async #signedRecord(): Promise<string> {
    await this.#waitFor(HOLDING.signatureStatus, (s) => s === SIGNATURE_OK || s >= 128, SIGNATURE_WAIT_MS, 'signature');
    const status = await this.#holding(HOLDING.signatureStatus);
    if (status !== SIGNATURE_OK) throw new Error(`the meter did not sign (signature status ${status})`);
    const payloadBytes = await this.#holding(HOLDING.recordLength);
    const payload = (await this.#readHoldingBytes(HOLDING.record, payloadBytes)).toString('latin1');
    const signatureBytes = await this.#holding(HOLDING.signatureLength);
    const signature = minimalDer(await this.#readHoldingBytes(HOLDING.signature, signatureBytes));
    return `OCMF|${payload}|${JSON.stringify({ SA: 'ECDSA-secp256r1-SHA256', SD: signature.toString('hex').toUpperCase() })}`;
  }

  async #read(): Promise<MeterReading> {
    const { bus } = this.#o;
    const pair = async (address: number, signed: boolean): Promise<number> => decade(await bus.readInputRegisters(address, 2), signed);
    const exponent = (await bus.readInputRegisters(INPUT.energyExponent, 1)).readInt16BE(0);
    const counter = (await bus.readInputRegisters(INPUT.energy, 2)).readInt32BE(0);
    const voltagesV = [
      await pair(INPUT.voltages[0], false),
      await pair(INPUT.voltages[1], false),
      await pair(INPUT.voltages[2], false),
    ] as const;
    const currentsA = [
      await pair(INPUT.currents[0], true),
      await pair(INPUT.currents[1], true),
      await pair(INPUT.currents[2], true),
    ] as const;
    return {
      energyWh: counter * 10 ** exponent,
      powerW: await pair(INPUT.totalPower, true),
      voltagesV,
      currentsA,
      atMs: this.#o.clock.now(),
    };
  }

  async #holding(address: number): Promise<number> {
    return (await this.#o.bus.readHoldingRegisters(address, 1)).readUInt16BE(0);
  }

  async #readHoldingBytes(address: number, bytes: number): Promise<Buffer> {
    const count = Math.ceil(bytes / 2);
    const parts: Buffer[] = [];
    for (let i = 0; i < count; i += MAX_REGISTERS)
      parts.push(await this.#o.bus.readHoldingRegisters(address + i, Math.min(MAX_REGISTERS, count - i)));
    return Buffer.concat(parts).subarray(0, bytes);
  }

  async #waitFor(address: number, done: (value: number) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = this.#o.clock.now() + timeoutMs;
    while (!done(await this.#holding(address))) {
      if (this.#o.clock.now() > deadline) throw new Error(`the meter did not reach "${what}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, POLL_STEP_MS));
    }
  }

  /** One conversation on the bus at a time: a poll never interleaves with a transaction's steps. */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#bus.then(work, work);
    this.#bus = run.catch(() => undefined);
    return run;
  }
}

/** T5 (unsigned) / T6 (signed) format: decade exponent in the high byte, a 24-bit value below. */
function decade(words: Buffer, signed: boolean): number {
  const exponent = words.readInt8(0);
  const value = signed ? (words.readInt8(1) << 16) | words.readUInt16BE(2) : (words.readUInt8(1) << 16) | words.readUInt16BE(2);
  return value * 10 ** exponent;
}

function ascii(words: Buffer): string {
  return words.toString('latin1').replace(/\0/g, '').trim();
}

/** Two characters per register, the first in the high byte. */
function toWords(bytes: Buffer): number[] {
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return words;
}

/** OCMF sections are separated by "|": never inside a field the meter signs in. */
function clean(text: string): string {
  return text.replace(/\|/g, ' ');
}

/**
 * The meter writes r and s as 32-byte INTEGERs even when they start with 00 followed by a byte
 * below 0x80, which strict DER (X.690 8.3.2) forbids and verifiers refuse (EVerest strips them
 * too). The same r and s, minimally encoded; anything that is not such a SEQUENCE passes unchanged.
 */
export function minimalDer(signature: Buffer): Buffer {
  if (signature.length < 2 || signature[0] !== 0x30 || signature[1] !== signature.length - 2) return signature;
  const integers: Buffer[] = [];
  let at = 2;
  while (at < signature.length) {
    const length = signature[at + 1];
    if (signature[at] !== 0x02 || length === undefined || length === 0 || at + 2 + length > signature.length) return signature;
    let value = signature.subarray(at + 2, at + 2 + length);
    while (value.length > 1 && value[0] === 0 && (value[1] as number) < 0x80) value = value.subarray(1);
    integers.push(Buffer.concat([Buffer.from([0x02, value.length]), value]));
    at += 2 + length;
  }
  const body = Buffer.concat(integers);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** A Modbus RTU master on a tty (`modbus-serial`), talking to the Iskra meter `unitId`. */
export async function openIskraBus(settings: Rs485Settings, unitId: number, timeoutMs = 500): Promise<IskraBus> {
  const { client, close } = await openRtuMaster(settings, unitId, timeoutMs);
  return {
    readInputRegisters: async (address, count) => (await client.readInputRegisters(address, count)).buffer,
    readHoldingRegisters: async (address, count) => (await client.readHoldingRegisters(address, count)).buffer,
    writeRegister: async (address, value) => void (await client.writeRegister(address, value)),
    writeRegisters: async (address, values) => void (await client.writeRegisters(address, [...values])),
    close,
  };
}

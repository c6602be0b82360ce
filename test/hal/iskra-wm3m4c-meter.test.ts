import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import ModbusSerial from 'modbus-serial';
import ocmf from '@road-labs/ocmf';
import ocmfNoble from '@road-labs/ocmf-crypto-noble';
import t from 'tap';
import { systemClock } from '../../hal/clock.js';
import { IskraWm3m4cMeter, minimalDer, openIskraBus } from '../../hal/linux/iskra-wm3m4c-meter.js';
import { startPtyPair } from '../helpers/socat.js';

/**
 * The Iskra WM3M4C driver over a virtual serial cable (socat) against an emulator of the meter's
 * registers on the far end (modbus-serial's RTU server): readings in the T5/T6 and counter
 * formats, and the signing state machine (metadata, command 7051, signature status, record and
 * signature registers, public key). The records are verified with @road-labs/ocmf.
 */

const { ServerSerial } = ModbusSerial as unknown as {
  ServerSerial: new (vector: object, options: object) => { close(cb: () => void): void };
};
const { Verifier } = ocmf;
const { Crypto } = ocmfNoble;

const words = (bytes: Buffer): number[] =>
  Array.from({ length: Math.ceil(bytes.length / 2) }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
const text = (holding: Map<number, number>, address: number, length: number): string => {
  const bytes = Buffer.alloc(Math.ceil(length / 2) * 2);
  for (let i = 0; i < bytes.length / 2; i++) bytes.writeUInt16BE(holding.get(address + i) ?? 0, 2 * i);
  return bytes.subarray(0, length).toString('latin1');
};

/** The meter as its manual describes it, on the registers the driver uses. */
class IskraEmulator {
  readonly input = new Map<number, number>();
  readonly holding = new Map<number, number>([
    [7000, 0],
    [7052, 1],
  ]);
  readonly keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  energyWh = 1_234_567;
  pagination = 0;
  /** Signature status to report instead of signing (an error code), or null. */
  failWith: number | null = null;
  #begin: Record<string, unknown> | null = null;

  constructor() {
    const put = (address: number, values: number[]): void => values.forEach((v, i) => this.input.set(address + i, v));
    put(1, words(Buffer.from('WM3M4C          ', 'latin1')));
    put(9, words(Buffer.from('79990001', 'latin1')));
    put(107, [0xff00, 2305, 0xff00, 2295, 0xff00, 2310]); // T5: 230.5 V, 229.5 V, 231.0 V
    put(126, [0xfe00, 1625, 0xfe00, 1575, 0xfe00, 1600]); // T6: 16.25 A, 15.75 A, 16.00 A
    put(140, [0x0000, 11040]); // T6: 11040 W
    this.input.set(414, 0); // Wh
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')]);
    words(point).forEach((v, i) => this.holding.set(8124 + i, v));
  }

  get publicKeyPem(): string {
    return this.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  vector() {
    return {
      getInputRegister: (address: number) =>
        address === 418 ? (this.energyWh >>> 16) & 0xffff : address === 419 ? this.energyWh & 0xffff : (this.input.get(address) ?? 0),
      getHoldingRegister: (address: number) => this.holding.get(address) ?? 0,
      setRegister: (address: number, value: number) => {
        this.holding.set(address, value);
        if (address === 7051) this.#command(value);
      },
    };
  }

  #command(value: number): void {
    const unixS = ((this.holding.get(7054) ?? 0) << 16) | (this.holding.get(7055) ?? 0);
    const reading = (tx: string) => ({
      TM: `${new Date(unixS * 1000).toISOString().replace('.', ',').replace('Z', '+0000')} S`,
      TX: tx,
      RV: this.energyWh / 1000,
      RI: '01-00:01.08.00*FF',
      RU: 'kWh',
      RT: 'AC',
      EF: '',
      ST: 'G',
    });
    if (value === 0x4200 && this.holding.get(7000) === 0) {
      this.holding.set(7000, 1);
      this.#begin = reading('B');
      this.#sign([this.#begin]);
    } else if (value === 0x7200 && this.holding.get(7000) !== 0) {
      this.holding.set(7000, 0);
      this.#sign([this.#begin ?? reading('B'), reading('E')]);
    }
  }

  #sign(readings: unknown[]): void {
    if (this.failWith !== null) {
      this.holding.set(7052, this.failWith);
      return;
    }
    const metadata = JSON.parse(text(this.holding, 7100, this.holding.get(7056) ?? 0)) as Record<string, unknown>;
    this.pagination += 1;
    const payload = JSON.stringify({ ...metadata, PG: `T${this.pagination}`, MV: 'Iskra', MM: 'WM3M4C', MS: '79990001', RD: readings });
    // The meter's own DER: r and s always 32 bytes (the quirk the driver mends when it shows).
    const rs = sign('sha256', Buffer.from(payload), { key: this.keys.privateKey, dsaEncoding: 'ieee-p1363' });
    const integer = (v: Buffer) =>
      (v[0] as number) >= 0x80 ? Buffer.concat([Buffer.from([2, 33, 0]), v]) : Buffer.concat([Buffer.from([2, 32]), v]);
    const body = Buffer.concat([integer(rs.subarray(0, 32)), integer(rs.subarray(32))]);
    const der = Buffer.concat([Buffer.from([0x30, body.length]), body]);
    words(Buffer.from(payload, 'latin1')).forEach((v, i) => this.holding.set(7612 + i, v));
    words(der).forEach((v, i) => this.holding.set(8188 + i, v));
    this.holding.set(7057, payload.length);
    this.holding.set(7058, der.length);
    this.holding.set(7052, 15);
  }
}

function serve(path: string, emulator: IskraEmulator, unitId = 33) {
  return new Promise<{ close(): Promise<void> }>((resolve, reject) => {
    const server = new ServerSerial(emulator.vector(), {
      path,
      baudRate: 115200,
      unitID: unitId,
      openCallback: (err: Error | null) =>
        err ? reject(err) : resolve({ close: () => new Promise((done) => server.close(() => done())) }),
    });
  });
}

async function verified(record: string, pem: string): Promise<boolean> {
  const key = await new Crypto().decodeEcPublicKey(
    new Uint8Array(createPublicKey(pem).export({ type: 'spki', format: 'der' })),
    'spki-der',
  );
  return (await new Verifier(new Crypto()).parseAndVerify(record, key)).verified;
}

t.test('readings, identity and a signed transaction: begin and end records from the meter verify with the key it publishes', async (t) => {
  const pair = await startPtyPair();
  t.teardown(() => pair.close());
  const emulator = new IskraEmulator();
  const meterSide = await serve(pair.masterPath, emulator);
  t.teardown(() => meterSide.close());
  const bus = await openIskraBus({ path: pair.slavePath, baudRate: 115200, parity: 'none', dataBits: 8, stopBits: 1 }, 33, 500);
  const meter = new IskraWm3m4cMeter({
    bus,
    clock: systemClock,
    log: { warn: () => {}, info: () => {} },
    gateway: { identification: 'SmartWallbox SW-Controller-1', serial: 'SN|42', version: '0.1.0' },
    pollMs: 3_600_000,
  });
  t.teardown(() => meter.close());

  await meter.poll();
  t.match(meter.latest(), { energyWh: 1_234_567, powerW: 11040, voltagesV: [230.5, 229.5, 231], currentsA: [16.25, 15.75, 16] });

  const identity = await meter.identity();
  t.same(
    { meterType: identity.meterType, meterSerialNumber: identity.meterSerialNumber },
    { meterType: 'Iskra WM3M4C', meterSerialNumber: '79990001' },
  );
  t.equal(identity.publicKeyPem, emulator.publicKeyPem, 'the public key from its 64 register bytes');

  const begin = await meter.beginTransaction({ idTag: '04A1B2C3D4E5F6', type: 'ISO14443' });
  t.ok(await verified(begin, identity.publicKeyPem), 'the begin record verifies');
  const beginPayload = JSON.parse(begin.split('|')[1] as string) as Record<string, any>;
  t.match(beginPayload, {
    FV: '1.0',
    GI: 'SmartWallbox SW-Controller-1',
    GS: 'SN 42',
    IS: true,
    IF: ['RFID_PLAIN'],
    IT: 'ISO14443',
    ID: '04A1B2C3D4E5F6',
    PG: 'T1',
    RD: [{ TX: 'B', RV: 1234.567 }],
  });
  t.ok(
    Math.abs(Date.parse(beginPayload['RD'][0].TM.replace(',', '.').replace(' S', '').replace('+0000', 'Z')) - Date.now()) < 5000,
    'the driver set the meter clock',
  );
  await t.rejects(meter.beginTransaction({ idTag: 'X', type: 'LOCAL' }), /transaction open/, 'no begin while the meter has one open');

  emulator.energyWh += 7_500;
  const end = await meter.endTransaction();
  t.ok(end !== null && (await verified(end, identity.publicKeyPem)), 'the end record verifies');
  t.match(JSON.parse((end as string).split('|')[1] as string), { PG: 'T2', RD: [{ TX: 'B' }, { TX: 'E', RV: 1242.067 }] });
  t.equal(await meter.endTransaction(), null, 'nothing open: no record');

  const altered = (end as string).replace('"TX":"E"', '"TX":"L"');
  t.notOk(await verified(altered, identity.publicKeyPem), 'one byte altered fails');

  emulator.failWith = 132;
  await t.rejects(
    meter.beginTransaction({ idTag: 'Y', type: 'CENTRAL' }),
    /signature status 132/,
    'a meter that cannot sign refuses the begin',
  );
});

t.test('minimalDer: the zero bytes the meter pads r and s with are removed; valid DER and other data pass unchanged', async (t) => {
  const r = Buffer.alloc(32, 0x11);
  const s = Buffer.alloc(32, 0x22);
  const der = (a: Buffer, b: Buffer) =>
    Buffer.concat([Buffer.from([0x30, 4 + a.length + b.length, 2, a.length]), a, Buffer.from([2, b.length]), b]);
  t.same(minimalDer(der(r, s)), der(r, s), 'minimal already');
  const padded = Buffer.concat([Buffer.from([0, 0]), r.subarray(2)]);
  t.same(minimalDer(der(padded, s)), der(r.subarray(2), s), 'two leading zeros removed from r');
  const needed = Buffer.concat([Buffer.from([0, 0x80]), r.subarray(2)]);
  t.same(minimalDer(der(needed, s)), der(needed, s), 'a zero before a byte >= 0x80 stays');
  t.same(minimalDer(Buffer.from('310402020001', 'hex')), Buffer.from('310402020001', 'hex'), 'not a SEQUENCE: unchanged');
  t.same(minimalDer(Buffer.from('300402000001', 'hex')), Buffer.from('300402000001', 'hex'), 'a zero-length INTEGER: unchanged');
});

import { createPublicKey, verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { SimPlant } from '../../hal/sim/plant.js';
import { SimSigningMeter } from '../../hal/sim/signing-meter.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { silentLogger } from '../../firmware/log.js';
import { SignedMeterValues } from '../../firmware/ocpp/signed-meter-values.js';
import type { SigningMeter } from '../../hal/meter.js';

/**
 * The simulated calibration-law meter (`sim.signedMeter`) in process, checked with node:crypto as
 * the OCMF specification describes verification (ECDSA-secp256r1-SHA256 over the payload
 * section's bytes, SD the hex DER signature); and the firmware's bound on a meter that never answers.
 */

function plant(clock = new SimulatedClock()): SimPlant {
  return new SimPlant({ clock, wiredPhases: 3, voltageV: 230, energyWh: 1234.4 });
}

function sections(record: string): { payload: string; signature: { SA: string; SD: string } } {
  const [header, payload, signature] = record.split('|') as [string, string, string];
  if (header !== 'OCMF') throw new Error('not OCMF');
  return { payload, signature: JSON.parse(signature) as { SA: string; SD: string } };
}

function verifies(record: string, publicKeyPem: string): boolean {
  const { payload, signature } = sections(record);
  return (
    signature.SA === 'ECDSA-secp256r1-SHA256' &&
    verify(
      'sha256',
      Buffer.from(payload, 'utf8'),
      { key: createPublicKey(publicKeyPem), dsaEncoding: 'der' },
      Buffer.from(signature.SD, 'hex'),
    )
  );
}

t.test(
  'begin and end records verify with the public key; pagination and the open transaction survive a reopen; its key pair too',
  async (t) => {
    const dir = t.testdir({});
    const meter = await SimSigningMeter.open(plant(), dir);
    const { publicKeyPem, meterSerialNumber } = await meter.identity();
    const begin = await meter.beginTransaction({ idTag: '04A1B2C3D4E5F6', type: 'ISO14443' });
    t.ok(verifies(begin, publicKeyPem), 'begin verifies');
    t.match(JSON.parse(sections(begin).payload), {
      FV: '1.0',
      PG: 'T1',
      MS: meterSerialNumber,
      IS: true,
      IL: 'HEARSAY',
      IF: ['RFID_PLAIN'],
      IT: 'ISO14443',
      ID: '04A1B2C3D4E5F6',
      RD: [{ TX: 'B', RV: 1.234, RI: '1-b:1.8.0', RU: 'kWh', ST: 'G' }],
    });
    t.match(
      JSON.parse(sections(begin).payload).RD[0].TM,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3}\+0000 S$/,
      'OCMF time with milliseconds and sync state',
    );
    await t.rejects(meter.beginTransaction({ idTag: 'X', type: 'LOCAL' }), /already open/, 'no second begin while one is open');

    const reopened = await SimSigningMeter.open(plant(), dir);
    t.equal((await reopened.identity()).publicKeyPem, publicKeyPem, 'the same key pair after a restart');
    const end = await reopened.endTransaction();
    t.ok(end !== null && verifies(end, publicKeyPem), 'the end record of the transaction begun before the restart verifies');
    t.match(JSON.parse(sections(end as string).payload), { PG: 'T2', ID: '04A1B2C3D4E5F6', RD: [{ TX: 'E' }] });
    t.equal(await reopened.endTransaction(), null, 'no transaction open: no record');

    const altered = (end as string).replace('"TX":"E"', '"TX":"L"');
    t.notOk(verifies(altered, publicKeyPem), 'one byte altered: the signature fails');
  },
);

t.test('a damaged pagination memory is refused, never reset; a lost meter does not answer', async (t) => {
  const dir = t.testdir({});
  writeFileSync(join(dir, 'sim-meter-ocmf.json'), '{"pagination":');
  await t.rejects(SimSigningMeter.open(plant(), dir), /unreadable/);
  const lostPlant = plant();
  const meter = await SimSigningMeter.open(lostPlant, t.testdir({}));
  lostPlant.setFault('meterLost');
  await t.rejects(meter.beginTransaction({ idTag: 'A', type: 'CENTRAL' }), /does not answer/);
});

t.test(
  'the firmware waits for the signing meter at most SIGNING_METER_TIMEOUT_MS: a meter that never answers gives no begin record and an error',
  async (t) => {
    const clock = new SimulatedClock();
    const never = new Promise<never>(() => {});
    const silent: SigningMeter = { identity: () => never, beginTransaction: () => never, endTransaction: () => never };
    const signed = new SignedMeterValues({ meter: silent, clock, log: silentLogger, fixedIdTag: 'FIXED', timeoutMs: 5000 });
    let settled: string | null | undefined;
    void signed.begin('FIXED').then((record) => (settled = record));
    for (let i = 0; i < 100 && settled === undefined; i++) {
      clock.advance(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    t.equal(settled, null, 'no record');
    t.ok(clock.now() - Date.UTC(2026, 0, 1) <= 5_100, 'given up after the bound');
    t.match(
      signed.status,
      { publicKey: null, error: /endTransaction: no answer within 5000 ms/ },
      'the meter could not even end a transaction left open',
    );
  },
);

t.test('a meter transaction nobody owns (left open by a crash the journal did not see) is ended before the next begin', async (t) => {
  const clock = new SimulatedClock();
  const meter = await SimSigningMeter.open(plant(clock), t.testdir({}));
  await meter.beginTransaction({ idTag: 'LOST', type: 'LOCAL' });
  const signed = new SignedMeterValues({ meter, clock, log: silentLogger, fixedIdTag: 'FIXED' });
  signed.presented('CARD01', 'ISO14443');
  const record = await signed.begin('CARD01');
  t.match(
    JSON.parse(sections(record as string).payload),
    { PG: 'T3', IT: 'ISO14443', ID: 'CARD01', RD: [{ TX: 'B' }] },
    'T1 the lost begin, T2 its end, T3 the new begin',
  );
  t.equal(signed.status.error, null);
});

import { createPublicKey } from 'node:crypto';
import ocmf from '@road-labs/ocmf';
import ocmfNoble from '@road-labs/ocmf-crypto-noble';
import t, { type Test } from 'tap';
import { startCentralSystem, type CentralSystem, type RecordedCall } from '../helpers/central-system.js';
import { pollUntil, startBox, type RunningBox } from '../helpers/firmware-process.js';
import { plugIn, since, sleep, waitStatus } from '../helpers/ocpp-scenario.js';
import { HTTP_ON_ANY_PORT, setUpAndLogIn } from '../helpers/web-client.js';

/**
 * CONTRACT §9 on the built firmware (sim board, `sim.signedMeter`) against the strict central
 * system: the meter's signed OCMF records travel through OCPP 1.6 unchanged and verify, with an
 * OCMF implementation that is not ours (@road-labs/ocmf with the noble crypto backend), against
 * the public key `GET /sim` shows.
 */

interface SignedValue {
  readonly action: string;
  readonly context: string;
  readonly measurand: string;
  readonly record: string;
  readonly transactionId: number;
}

// CommonJS packages: their exports arrive as the default export.
const { Verifier } = ocmf;
const { Crypto } = ocmfNoble;
const verifier = new Verifier(new Crypto());

/** The public key as the OCMF library takes it: SubjectPublicKeyInfo DER from the PEM `GET /sim` shows. */
async function meterKey(box: RunningBox) {
  const pem = (await box.sim())['meter'].publicKey as string;
  const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return new Crypto().decodeEcPublicKey(new Uint8Array(der), 'spki-der');
}

async function verify(record: string, key: Awaited<ReturnType<typeof meterKey>>): Promise<boolean> {
  return (await verifier.parseAndVerify(record, key)).verified;
}

/** Every SignedData value the central system received, in the order received. */
function signedValues(calls: readonly RecordedCall[]): SignedValue[] {
  const found: SignedValue[] = [];
  for (const call of calls) {
    const meterValues =
      call.action === 'MeterValues'
        ? call.params['meterValue']
        : call.action === 'StopTransaction'
          ? (call.params['transactionData'] ?? [])
          : [];
    for (const value of meterValues as Array<{ sampledValue: Array<Record<string, string>> }>) {
      for (const sampled of value.sampledValue) {
        if (sampled['format'] !== 'SignedData') continue;
        found.push({
          action: call.action,
          context: sampled['context'] as string,
          measurand: sampled['measurand'] as string,
          record: sampled['value'] as string,
          transactionId: call.params['transactionId'] as number,
        });
      }
    }
  }
  return found;
}

const payloadOf = (record: string): Record<string, any> => JSON.parse(record.split('|')[1] as string) as Record<string, any>;
const pagination = (record: string): number => Number(String(payloadOf(record)['PG']).slice(1));

async function centralSystem(t: Test): Promise<CentralSystem> {
  const cs = await startCentralSystem();
  t.teardown(() => cs.close());
  return cs;
}

/** The box with a signing meter on `dir`, online (connector 1 reported). */
async function signingBox(t: Test, cs: CentralSystem, dir: string, extra: Record<string, unknown> = {}): Promise<RunningBox> {
  const from = cs.calls.length;
  const box = await startBox(dir, {
    sim: { controlPort: 0, signedMeter: true },
    ocpp: { url: cs.url, chargeBoxId: 'box-ocmf', password: '', fixedIdTag: 'FIXED01' },
    ...extra,
  });
  t.teardown(() => box.fw.kill());
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1, { from, timeoutMs: 15_000 });
  return box;
}

/** Both records of each transaction exactly once: the begin in a MeterValues of its transaction, the end in its StopTransaction. */
function checkOnce(t: Test, signed: readonly SignedValue[], transactionIds: readonly number[]): void {
  const records = signed.map((s) => s.record);
  t.equal(new Set(records).size, records.length, 'no record delivered twice');
  t.ok(
    signed.every((s) => s.measurand === 'Energy.Active.Import.Register'),
    'measurand Energy.Active.Import.Register',
  );
  for (const id of transactionIds) {
    const ofTx = signed.filter((s) => s.transactionId === id);
    t.same(
      ofTx.map((s) => `${s.action}/${s.context}`),
      ['MeterValues/Transaction.Begin', 'StopTransaction/Transaction.End'],
      `transaction ${id}: one begin, one end`,
    );
  }
}

t.test(
  'a whole transaction: the begin record right after StartTransaction.conf, the end record in StopTransaction, both verify with the key of GET /sim',
  async (t) => {
    const cs = await centralSystem(t);
    const box = await signingBox(t, cs, t.testdir({}), HTTP_ON_ANY_PORT);
    const boot = await cs.waitForCall('BootNotification');
    t.match(boot.params, { meterType: 'SmartWallbox SIM-OCMF-1', meterSerialNumber: 'SIMMTR000001' }, 'BootNotification names the meter');
    const key = await meterKey(box);

    const from = cs.calls.length;
    await plugIn(box);
    const start = await cs.waitForCall('StartTransaction', () => true, { from });
    const begin = await cs.waitForCall('MeterValues', (p) => p['meterValue'][0].sampledValue[0].context === 'Transaction.Begin', { from });
    const afterStart = since(cs, from).filter((c) => c.action === 'StartTransaction' || c.action === 'MeterValues');
    t.equal(afterStart[1], begin, 'the begin record is the first MeterValues after StartTransaction');
    await waitStatus(cs, 'Charging', from);
    const closedAtMs = (await pollUntil(box.sim, (s) => s['relayClosed'] === true))['changedAtMs'].contactor as number;
    await sleep(2500);
    const stopFrom = cs.calls.length;
    await box.simPost('/sim/ev', { state: 'A' });
    const stop = await cs.waitForCall('StopTransaction', () => true, { from: stopFrom });

    const signed = signedValues(since(cs, from));
    const transactionId = begin.params['transactionId'] as number;
    checkOnce(t, signed, [transactionId]);
    t.equal(stop.params['transactionId'], transactionId);
    const [beginRecord, endRecord] = signed.map((s) => s.record) as [string, string];
    t.match(beginRecord, /^OCMF\|\{.*\}\|\{.*\}$/, 'OCMF|{payload}|{signature}');
    t.ok(await verify(beginRecord, key), 'the begin record verifies');
    t.ok(await verify(endRecord, key), 'the end record verifies');
    const b = payloadOf(beginRecord);
    const e = payloadOf(endRecord);
    t.match(b, { FV: '1.0', MS: 'SIMMTR000001', IT: 'LOCAL', ID: 'FIXED01', RD: [{ TX: 'B', RU: 'kWh', ST: 'G' }] });
    t.match(e, { RD: [{ TX: 'E', RU: 'kWh', ST: 'G' }] });
    t.equal(JSON.parse(beginRecord.split('|')[2] as string).SA, 'ECDSA-secp256r1-SHA256');
    t.equal(pagination(endRecord), pagination(beginRecord) + 1, 'pagination counts on by one');
    t.ok(
      Math.abs(b['RD'][0].RV * 1000 - start.params['meterStart']) <= 1,
      `begin reading ${b['RD'][0].RV} kWh = meterStart ${start.params['meterStart']} Wh`,
    );
    t.ok(
      Math.abs(e['RD'][0].RV * 1000 - stop.params['meterStop']) <= 1,
      `end reading ${e['RD'][0].RV} kWh = meterStop ${stop.params['meterStop']} Wh`,
    );
    t.ok(e['RD'][0].RV > b['RD'][0].RV, 'energy was charged between them');
    const beganAtMs = Date.parse(String(b['RD'][0].TM).replace(',', '.').replace('+0000 S', 'Z'));
    t.ok(
      beganAtMs <= closedAtMs,
      `the meter's transaction began (${b['RD'][0].TM}) before the contactor closed (${new Date(closedAtMs).toISOString()})`,
    );

    // One byte altered: a digit of the reading, then a byte of the signature.
    const altered = beginRecord.replace(/"RV":(\d)/, (_, d: string) => `"RV":${(Number(d) + 1) % 10}`);
    t.not(altered, beginRecord);
    t.notOk(await verify(altered, key), 'a reading altered by one byte fails verification');
    const sdAt = beginRecord.indexOf('"SD":"') + 10;
    const flipped = beginRecord.slice(0, sdAt) + (beginRecord[sdAt] === 'A' ? 'B' : 'A') + beginRecord.slice(sdAt + 1);
    t.notOk(await verify(flipped, key).catch(() => false), 'a signature altered by one byte fails verification');

    const web = await setUpAndLogIn(box, 'a-good-password-1');
    const status = (await web.call('GET', '/api/status')).body;
    t.equal(status.signedMeter.publicKey, (await box.sim())['meter'].publicKey, 'the status API shows the public key of GET /sim');
    t.match(status.signedMeter, { meterType: 'SmartWallbox SIM-OCMF-1', meterSerialNumber: 'SIMMTR000001', error: null });
    t.comment(`begin record as sent: ${beginRecord}`);
    t.comment(`end record as sent: ${endRecord}`);
    t.comment(
      `@road-labs/ocmf parseAndVerify: begin ${String(await verify(beginRecord, key))}, end ${String(await verify(endRecord, key))}, one byte altered ${String(await verify(altered, key))}`,
    );
  },
);

t.test('a transaction across a central-system outage: both records queued, delivered once the link is back, exactly once', async (t) => {
  const cs = await centralSystem(t);
  const box = await signingBox(t, cs, t.testdir({}));
  const key = await meterKey(box);
  // The outage: connections refused, the current one cut.
  cs.acceptPassword = () => false;
  await cs.client().close({ force: true });
  const from = cs.calls.length;
  await plugIn(box);
  await pollUntil(box.sim, (s) => s['relayClosed'] === true, 15_000);
  await sleep(2000);
  await box.simPost('/sim/ev', { state: 'A' });
  await pollUntil(box.sim, (s) => s['relayClosed'] === false);
  t.equal(since(cs, from, 'StartTransaction').length, 0, 'nothing reached the central system during the outage');
  cs.acceptPassword = () => true;
  const stop = await cs.waitForCall('StopTransaction', () => true, { from, timeoutMs: 60_000 });
  await sleep(1000);
  const signed = signedValues(since(cs, from));
  checkOnce(t, signed, [stop.params['transactionId'] as number]);
  for (const s of signed) t.ok(await verify(s.record, key), `${s.context} verifies after the outage`);
});

t.test(
  'SIGKILL during a transaction, restarted; a clean restart; another transaction: every record exactly once, pagination strictly increasing',
  async (t) => {
    const cs = await centralSystem(t);
    const dir = t.testdir({});
    const first = await signingBox(t, cs, dir);
    const key = await meterKey(first);
    const publicKey = (await first.sim())['meter'].publicKey as string;
    await plugIn(first);
    await cs.waitForCall('MeterValues', (p) => p['meterValue'][0].sampledValue[0].context === 'Transaction.Begin');
    await pollUntil(first.sim, (s) => s['relayClosed'] === true);
    await sleep(1500);
    await first.fw.kill();

    const second = await signingBox(t, cs, dir);
    const recovered = await cs.waitForCall('StopTransaction', () => true, { timeoutMs: 15_000 });
    t.equal(recovered.params['reason'], 'Reboot', 'the transaction the kill cut is closed at the next boot');
    t.equal(await second.fw.stop(), 0, 'a clean stop');

    const third = await signingBox(t, cs, dir);
    t.equal((await third.sim())['meter'].publicKey, publicKey, 'the meter keeps its key pair across restarts');
    const from = cs.calls.length;
    await plugIn(third);
    await cs.waitForCall('MeterValues', (p) => p['meterValue'][0].sampledValue[0].context === 'Transaction.Begin', { from });
    await third.simPost('/sim/ev', { state: 'A' });
    await cs.waitForCall('StopTransaction', () => true, { from });
    await sleep(500);

    const signed = signedValues(cs.calls);
    const ids = [...new Set(cs.calls.filter((c) => c.action === 'StopTransaction').map((c) => c.params['transactionId'] as number))];
    t.equal(ids.length, 2, 'two transactions');
    checkOnce(t, signed, ids);
    for (const s of signed) t.ok(await verify(s.record, key), `${s.context} of transaction ${s.transactionId} verifies`);
    const pages = signed.map((s) => pagination(s.record));
    t.ok(
      pages.every((p, i) => i === 0 || p > (pages[i - 1] as number)),
      `pagination strictly increasing across the kill and the restart: ${pages.join(', ')}`,
    );
  },
);

t.test('a signing meter that does not answer: no transaction, no charge, the status API and the log say why', async (t) => {
  const cs = await centralSystem(t);
  const box = await signingBox(t, cs, t.testdir({}), HTTP_ON_ANY_PORT);
  const web = await setUpAndLogIn(box, 'a-good-password-1');
  await box.simPost('/sim/fault', { kind: 'meterLost' });
  const from = cs.calls.length;
  await plugIn(box);
  await box.fw.waitForLog((l) => l['msg'] === 'transaction not started: the signing meter did not begin its transaction', 15_000);
  t.equal(since(cs, from, 'StartTransaction').length, 0, 'no StartTransaction');
  t.equal((await box.sim())['relayClosed'], false, 'the contactor stays open');
  const status = (await web.call('GET', '/api/status')).body;
  t.match(status.signedMeter.error, /beginTransaction: meter does not answer/, 'the status API names the failure');
});

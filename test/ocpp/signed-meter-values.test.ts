import { createPublicKey } from 'node:crypto';
import ocmf from '@road-labs/ocmf';
import ocmfNoble from '@road-labs/ocmf-crypto-noble';
import t, { type Test } from 'tap';
import { simSnapshot } from '../../board/sim-control-api.js';
import { statusView } from '../../firmware/http/status-view.js';
import { startCentralSystem, type CentralSystem, type RecordedCall } from '../helpers/central-system.js';
import { pollUntil, startBox, type RunningBox } from '../helpers/firmware-process.js';
import { ocppRigFor, type OcppRig } from '../helpers/ocpp-rig.js';
import { plugIn, since, sleep } from '../helpers/ocpp-scenario.js';
import { carSteps, rigLogs, type RigLogs } from '../helpers/rig-extras.js';

/**
 * CONTRACT §9 on the sim board with `sim.signedMeter` against the strict central system: the
 * meter's signed OCMF records travel through OCPP 1.6 unchanged and verify, with an OCMF
 * implementation that is not ours (@road-labs/ocmf with the noble crypto backend), against the
 * public key `GET /sim` shows. In process on the simulated clock (`GET /sim` and `GET /api/status`
 * as their views `simSnapshot` and `statusView` build them); the built firmware only where a
 * SIGKILL is the point.
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
async function meterKey(pem: string) {
  const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return new Crypto().decodeEcPublicKey(new Uint8Array(der), 'spki-der');
}

/** The meter's public key as `GET /sim` shows it, of a spawned box. */
const publicKeyOf = async (box: RunningBox): Promise<string> => (await box.sim())['meter'].publicKey as string;

/** The same on the in-process rig: what the sim board hands `GET /sim`. */
async function rigPublicKey(rig: OcppRig): Promise<string> {
  const identity = await rig.hal.meter.signing!.identity();
  return (simSnapshot(rig.plant, identity.publicKeyPem)['meter'] as { publicKey: string }).publicKey;
}

/** The signing meter's box in process, online (connector 1 reported), its log lines kept. */
async function signingRig(t: Test): Promise<{ rig: OcppRig; logs: RigLogs }> {
  const logs = rigLogs('info');
  const rig = await ocppRigFor(t, {
    log: logs.logger,
    config: { sim: { signedMeter: true } },
    ocpp: { chargeBoxId: 'box-ocmf', fixedIdTag: 'FIXED01' },
  });
  logs.useClock(rig.clock);
  return { rig, logs };
}

const signedMeterStatus = (rig: OcppRig) => statusView(rig.firmware, false, rig.clock.now()).signedMeter;

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
    const { rig } = await signingRig(t);
    const { cs } = rig;
    const boot = await rig.waitCall('BootNotification');
    t.match(boot.params, { meterType: 'SmartWallbox SIM-OCMF-1', meterSerialNumber: 'SIMMTR000001' }, 'BootNotification names the meter');
    const publicKey = await rigPublicKey(rig);
    const key = await meterKey(publicKey);

    const from = cs.calls.length;
    rig.car('C');
    const start = await rig.waitCall('StartTransaction', () => true, from);
    const begin = await rig.waitCall('MeterValues', (p) => p['meterValue'][0].sampledValue[0].context === 'Transaction.Begin', from);
    const afterStart = since(cs, from).filter((c) => c.action === 'StartTransaction' || c.action === 'MeterValues');
    t.equal(afterStart[1], begin, 'the begin record is the first MeterValues after StartTransaction');
    await rig.waitStatus('Charging', from);
    // GET /sim's changedAtMs is host time; on the simulated clock the close is seen by sampling every step (50 ms).
    let openSeenAtMs = rig.clock.now();
    await rig.pace(() => rig.plant.contactorCommanded || ((openSeenAtMs = rig.clock.now()), false), 10_000);
    await rig.advance(2500);
    const stopFrom = cs.calls.length;
    rig.car('A');
    const stop = await rig.waitCall('StopTransaction', () => true, stopFrom);

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
      beganAtMs <= openSeenAtMs,
      `the meter's transaction began (${b['RD'][0].TM}) before the contactor closed (still open at ${new Date(openSeenAtMs).toISOString()})`,
    );

    // One byte altered: a digit of the reading, then a byte of the signature.
    const altered = beginRecord.replace(/"RV":(\d)/, (_, d: string) => `"RV":${(Number(d) + 1) % 10}`);
    t.not(altered, beginRecord);
    t.notOk(await verify(altered, key), 'a reading altered by one byte fails verification');
    const sdAt = beginRecord.indexOf('"SD":"') + 10;
    const flipped = beginRecord.slice(0, sdAt) + (beginRecord[sdAt] === 'A' ? 'B' : 'A') + beginRecord.slice(sdAt + 1);
    t.notOk(await verify(flipped, key).catch(() => false), 'a signature altered by one byte fails verification');

    const status = signedMeterStatus(rig);
    t.equal(status?.publicKey, publicKey, 'the status API shows the public key of GET /sim');
    t.match(status, { meterType: 'SmartWallbox SIM-OCMF-1', meterSerialNumber: 'SIMMTR000001', error: null });
    t.comment(`begin record as sent: ${beginRecord}`);
    t.comment(`end record as sent: ${endRecord}`);
    t.comment(
      `@road-labs/ocmf parseAndVerify: begin ${String(await verify(beginRecord, key))}, end ${String(await verify(endRecord, key))}, one byte altered ${String(await verify(altered, key))}`,
    );
  },
);

t.test('a transaction across a central-system outage: both records queued, delivered once the link is back, exactly once', async (t) => {
  const { rig } = await signingRig(t);
  const { cs } = rig;
  const key = await meterKey(await rigPublicKey(rig));
  const { relayIs } = carSteps(rig);
  // The outage: connections refused, the current one cut.
  cs.acceptPassword = () => false;
  await cs.client().close({ force: true });
  const from = cs.calls.length;
  rig.car('C');
  await relayIs(true);
  await rig.advance(2000);
  rig.car('A');
  await relayIs(false);
  t.equal(since(cs, from, 'StartTransaction').length, 0, 'nothing reached the central system during the outage');
  cs.acceptPassword = () => true;
  await rig.waitCall('StopTransaction', () => true, from, 60_000);
  // A record sent twice would come with the next messages: a second more of them.
  await rig.advance(1000);
  const stop = since(cs, from, 'StopTransaction')[0]!;
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
    const publicKey = await publicKeyOf(first);
    const key = await meterKey(publicKey);
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
    t.equal(await publicKeyOf(third), publicKey, 'the meter keeps its key pair across restarts');
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
  const { rig, logs } = await signingRig(t);
  rig.plant.setFault('meterLost');
  const from = rig.cs.calls.length;
  rig.car('C');
  await rig.pace(
    () => logs.find((l) => l['msg'] === 'transaction not started: the signing meter did not begin its transaction') !== undefined,
    15_000,
  );
  t.equal(since(rig.cs, from, 'StartTransaction').length, 0, 'no StartTransaction');
  t.equal(rig.plant.contactorCommanded, false, 'the contactor stays open');
  t.match(signedMeterStatus(rig)?.error, /beginTransaction: meter does not answer/, 'the status API names the failure');
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { silentLogger } from '../../firmware/log.js';
import { MAX_QUEUED_MESSAGES, TxQueue } from '../../firmware/ocpp/model/tx-queue.js';
import { RpcError, type OcppRpc } from '../../firmware/ocpp/rpc.js';
import { signedMeterValue } from '../../firmware/ocpp/signed-meter-values.js';
import type { RequestOf } from '../../firmware/ocpp/messages.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { ramDir } from '../helpers/ram-dir.js';

/**
 * The transaction queue on its journal, with a scripted central system: order across a restart,
 * transactionIds at send time, attempts (offline not counted), the dead-letter file, thinning,
 * open transactions for the recovery at boot, and the one window where a duplicate can happen.
 */

interface Sent {
  action: string;
  payload: Record<string, any>;
}

/** A stand-in for the RPC layer: answers by script; `connected` can be switched. */
function scriptedRpc(answer: (action: string, payload: Record<string, any>) => unknown) {
  const sent: Sent[] = [];
  const rpc = {
    connected: true,
    async call(action: string, payload: Record<string, any>) {
      if (!rpc.connected) throw new RpcError('GenericError', 'not connected');
      sent.push({ action, payload });
      return answer(action, payload);
    },
  };
  return { rpc, sent };
}

let nextTransactionId = 500;
const accept = (action: string) =>
  action === 'StartTransaction'
    ? { transactionId: ++nextTransactionId, idTagInfo: { status: 'Accepted' } }
    : action === 'StopTransaction'
      ? { idTagInfo: { status: 'Accepted' } }
      : {};

async function openQueue(dataDir: string, rpc: { connected: boolean }, clock = new SimulatedClock(), attempts = 3) {
  const stored = await TxQueue.load(dataDir, silentLogger);
  return new TxQueue(
    {
      rpc: rpc as unknown as OcppRpc,
      clock,
      log: silentLogger,
      attempts: () => attempts,
      retryIntervalS: () => 10,
      canSend: () => rpc.connected,
    },
    stored,
  );
}

function queueTransaction(queue: TxQueue, meterValues: number): number {
  const tx = queue.openTransaction({ idTag: 'TAG', meterStartWh: 100, startedAt: '2026-03-02T10:00:00.000Z' });
  queue.push('StartTransaction', tx, { connectorId: 1, idTag: 'TAG', meterStart: 100, timestamp: '2026-03-02T10:00:00.000Z' });
  for (let i = 1; i <= meterValues; i++) {
    queue.push('MeterValues', tx, {
      connectorId: 1,
      meterValue: [{ timestamp: '2026-03-02T10:00:00.000Z', sampledValue: [{ value: String(100 + i) }] }],
    });
  }
  queue.push('StopTransaction', tx, { idTag: 'TAG', meterStop: 100 + meterValues, timestamp: '2026-03-02T11:00:00.000Z', reason: 'Local' });
  return tx;
}

t.test('queued offline, restarted, replayed in order; Stop and MeterValues carry the transactionId of StartTransaction.conf', async (t) => {
  const dir = t.testdir({});
  const { rpc, sent } = scriptedRpc(accept);
  rpc.connected = false;
  const first = await openQueue(dir, rpc);
  queueTransaction(first, 3);
  await first.close();
  const again = await openQueue(dir, rpc);
  t.equal(again.length, 5, 'all five messages back after the restart');
  rpc.connected = true;
  await again.drain();
  t.same(
    sent.map((s) => s.action),
    ['StartTransaction', 'MeterValues', 'MeterValues', 'MeterValues', 'StopTransaction'],
  );
  const id = nextTransactionId;
  t.ok(
    sent.slice(1).every((s) => s.payload['transactionId'] === id),
    `each carries transactionId ${id}`,
  );
  t.same(
    sent.slice(1, 4).map((s) => s.payload['meterValue'][0].sampledValue[0].value),
    ['101', '102', '103'],
  );
  await again.close();
  const empty = await openQueue(dir, rpc);
  t.equal(empty.length, 0, 'nothing left after the confirmations');
  await empty.close();
});

t.test(
  'CALLERRORs use up TransactionMessageAttempts (offline time does not count); then the dead-letter file and the queue moves on',
  async (t) => {
    const dir = t.testdir({});
    const clock = new SimulatedClock();
    let refuse = true;
    const { rpc, sent } = scriptedRpc((action) => {
      if (action === 'MeterValues' && refuse) throw new RpcError('InternalError', 'backend hiccup');
      return accept(action);
    });
    const queue = await openQueue(dir, rpc, clock, 2);
    queueTransaction(queue, 1);
    const draining = queue.drain();
    for (let turn = 0; turn < 1000 && sent.length < 2; turn++) await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    t.same(
      sent.map((s) => s.action),
      ['StartTransaction', 'MeterValues'],
      'first attempt refused',
    );
    rpc.connected = false;
    clock.advance(10_000);
    await draining;
    t.equal(queue.length, 2, 'offline: the MeterValues waits, not given up');
    rpc.connected = true;
    await queue.drain();
    t.same(
      sent.map((s) => s.action),
      ['StartTransaction', 'MeterValues', 'MeterValues', 'StopTransaction'],
      'second attempt refused: given up; the Stop follows',
    );
    t.equal(queue.deadLetterCount, 1);
    await queue.flush();
    const dead = readFileSync(join(dir, 'ocpp-dead-letter.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l.slice(0, l.lastIndexOf('\t'))) as unknown);
    t.match(dead, [{ action: 'MeterValues', reason: /InternalError|backend hiccup/ }]);
    refuse = false;
    await queue.close();
  },
);

t.test('a StartTransaction given up on takes its transaction along; a later Stop of it goes to the dead letters too', async (t) => {
  const dir = t.testdir({});
  const { rpc, sent } = scriptedRpc((action) => {
    if (action === 'StartTransaction') throw new RpcError('FormationViolation', 'no');
    return accept(action);
  });
  const queue = await openQueue(dir, rpc, new SimulatedClock(), 1);
  const tx = queueTransaction(queue, 2);
  await queue.drain();
  t.same(
    sent.map((s) => s.action),
    ['StartTransaction'],
  );
  t.equal(queue.deadLetterCount, 4);
  queue.push('MeterValues', tx, { connectorId: 1, meterValue: [] });
  await queue.drain();
  t.equal(queue.deadLetterCount, 5, 'no transactionId will ever come for it');
  await queue.close();
});

t.test(`beyond ${MAX_QUEUED_MESSAGES} messages, sampled MeterValues are thinned; Start and Stop never`, async (t) => {
  const { rpc, sent } = scriptedRpc(accept);
  rpc.connected = false;
  const queue = await openQueue(ramDir(t), rpc);
  queueTransaction(queue, MAX_QUEUED_MESSAGES + 10);
  t.ok(queue.length <= MAX_QUEUED_MESSAGES, `${queue.length} queued`);
  rpc.connected = true;
  await queue.drain();
  t.equal(sent[0]?.action, 'StartTransaction');
  t.equal(sent.at(-1)?.action, 'StopTransaction');
  const values = sent.filter((s) => s.action === 'MeterValues').map((s) => Number(s.payload['meterValue'][0].sampledValue[0].value));
  t.ok(
    values.every((v, i) => i === 0 || v > (values[i - 1] as number)),
    'the kept ones in their order',
  );
  t.ok(values.length > MAX_QUEUED_MESSAGES / 2 - 10, `${values.length} meter values kept`);
  await queue.close();
});

t.test('the open transaction and its last kept meter reading survive a restart; its StopTransaction closes it', async (t) => {
  const dir = t.testdir({});
  const { rpc } = scriptedRpc(accept);
  rpc.connected = false;
  const queue = await openQueue(dir, rpc);
  const tx = queue.openTransaction({ idTag: 'TAG', meterStartWh: 100, startedAt: '2026-03-02T10:00:00.000Z' });
  queue.recordMeter(tx, 110.4, '2026-03-02T10:01:00.000Z');
  queue.recordMeter(tx, 121.9, '2026-03-02T10:02:00.000Z');
  await queue.close();
  const again = await openQueue(dir, rpc);
  t.same(again.openTransactions, [
    {
      localId: tx,
      idTag: 'TAG',
      meterStartWh: 100,
      startedAt: '2026-03-02T10:00:00.000Z',
      lastMeter: { wh: 121.9, at: '2026-03-02T10:02:00.000Z' },
    },
  ]);
  const next = again.openTransaction({ idTag: 'B', meterStartWh: 122, startedAt: '2026-03-02T10:05:00.000Z' });
  t.ok(next > tx, 'local ids stay unique across restarts');
  again.push('StopTransaction', tx, { idTag: 'TAG', meterStop: 122, timestamp: '2026-03-02T10:02:00.000Z', reason: 'Reboot' });
  await again.close();
  const last = await openQueue(dir, rpc);
  t.same(
    last.openTransactions.map((o) => o.localId),
    [next],
  );
  await last.close();
});

t.test('a duplicate only when the process dies between sending and keeping the confirmation', async (t) => {
  const dir = t.testdir({});
  const { rpc, sent } = scriptedRpc(accept);
  const queue = await openQueue(dir, rpc);
  rpc.connected = false;
  queueTransaction(queue, 0);
  await queue.flush();
  // The journal and its open-transaction marker as a crash would leave them right after
  // StartTransaction went out: sent, not confirmed.
  const journal = readFileSync(join(dir, 'ocpp-transactions.jsonl'), 'utf8');
  const marker = readFileSync(join(dir, 'ocpp-open-transactions.json'), 'utf8');
  rpc.connected = true;
  await queue.drain();
  await queue.close();
  writeFileSync(join(dir, 'ocpp-transactions.jsonl'), journal);
  writeFileSync(join(dir, 'ocpp-open-transactions.json'), marker);
  const again = await openQueue(dir, rpc);
  await again.drain();
  t.same(
    sent.map((s) => s.action),
    ['StartTransaction', 'StopTransaction', 'StartTransaction', 'StopTransaction'],
    'sent again: the central system sees each twice',
  );
  await again.close();
  const last = await openQueue(dir, rpc);
  await last.drain();
  t.equal(sent.length, 4, 'confirmed and kept: never again');
  await last.close();
});

t.test('a MeterValues carrying a signed record (CONTRACT §9) is never thinned, and its value is sent as it was queued', async (t) => {
  const { rpc, sent } = scriptedRpc(accept);
  rpc.connected = false;
  const queue = await openQueue(ramDir(t), rpc);
  const record = 'OCMF|{"PG":"T7","RD":[{"TX":"B","RV":0.1}]}|{"SD":"3006020101020101"}';
  const tx = queue.openTransaction({ idTag: 'TAG', meterStartWh: 100, startedAt: '2026-03-02T10:00:00.000Z' });
  queue.push('StartTransaction', tx, { connectorId: 1, idTag: 'TAG', meterStart: 100, timestamp: '2026-03-02T10:00:00.000Z' });
  const sampled = (i: number): Omit<RequestOf<'MeterValues'>, 'transactionId'> => ({
    connectorId: 1,
    meterValue: [
      {
        timestamp: '2026-03-02T10:00:01.000Z',
        sampledValue: [{ value: String(100 + i), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
      },
    ],
  });
  // Second among the MeterValues: the place thinning would take first.
  queue.push('MeterValues', tx, sampled(0));
  queue.push('MeterValues', tx, {
    connectorId: 1,
    meterValue: [signedMeterValue(record, 'Transaction.Begin', '2026-03-02T10:00:00.000Z')],
  });
  for (let i = 1; i <= MAX_QUEUED_MESSAGES + 10; i++) queue.push('MeterValues', tx, sampled(i));
  t.ok(queue.length <= MAX_QUEUED_MESSAGES, `thinned to ${queue.length}`);
  rpc.connected = true;
  await queue.drain();
  const signed = sent.filter((s) => s.payload['meterValue']?.[0].sampledValue[0].format === 'SignedData');
  t.same(
    signed.map((s) => s.payload['meterValue'][0].sampledValue[0]),
    [{ value: record, context: 'Transaction.Begin', format: 'SignedData', measurand: 'Energy.Active.Import.Register', location: 'Outlet' }],
    'the signed begin record went out once, unchanged',
  );
  await queue.close();
});

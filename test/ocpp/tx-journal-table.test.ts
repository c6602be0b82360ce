import t from 'tap';
import {
  applyRecord,
  carriesSignedData,
  emptyJournalState,
  liveRecords,
  replayRecord,
  type JournalState,
  type QueueRecord,
} from '../../firmware/ocpp/model/tx-journal.js';

/**
 * The transaction journal's reducer (`applyRecord`), one row per record kind and rule: the records
 * before, the record, and what the state then holds. Also the replay counters, the live records a
 * compaction writes, and which MeterValues count as signed billing evidence.
 */

const AT = '2026-03-02T10:00:00.000Z';
const LATER = '2026-03-02T10:05:00.000Z';
const OPEN: QueueRecord = { k: 'open', tx: 1, idTag: 'TAG', meterStartWh: 100, startedAt: AT };
const START: QueueRecord = { k: 'msg', seq: 1, tx: 1, action: 'StartTransaction', payload: { idTag: 'TAG' } };
const reading = (wh: number, format?: string) => ({
  connectorId: 1,
  meterValue: [
    {
      timestamp: LATER,
      sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh', ...(format && { format }) }],
    },
  ],
});

/** What a row checks of the state, in plain data. */
function view(state: JournalState) {
  return {
    messages: state.messages.map((m) => `${m.seq}:${m.action}:${m.failures}`),
    txIds: [...state.txIds],
    open: [...state.open.values()].map((o) => ({ localId: o.localId, lastMeter: o.lastMeter })),
    nextSeq: state.nextSeq,
    nextTx: state.nextTx,
  };
}

function after(records: readonly QueueRecord[]): JournalState {
  const state = emptyJournalState();
  for (const record of records) applyRecord(state, record);
  return state;
}

interface Row {
  readonly name: string;
  readonly before: readonly QueueRecord[];
  readonly record: QueueRecord;
  readonly expect: Partial<ReturnType<typeof view>>;
}

const ROWS: Row[] = [
  {
    name: 'ids: the counters go up to the record',
    before: [],
    record: { k: 'ids', nextSeq: 5, nextTx: 9 },
    expect: { nextSeq: 5, nextTx: 9 },
  },
  {
    name: 'ids: never down (a later record of an older compaction)',
    before: [{ k: 'ids', nextSeq: 5, nextTx: 9 }],
    record: { k: 'ids', nextSeq: 2, nextTx: 3 },
    expect: { nextSeq: 5, nextTx: 9 },
  },
  { name: 'open: a transaction without a reading yet', before: [], record: OPEN, expect: { open: [{ localId: 1, lastMeter: null }] } },
  {
    name: 'meter: the latest reading of an open transaction',
    before: [OPEN],
    record: { k: 'meter', tx: 1, wh: 150, at: LATER },
    expect: { open: [{ localId: 1, lastMeter: { wh: 150, at: LATER } }] },
  },
  {
    name: 'meter: a lower reading never replaces a higher one',
    before: [OPEN, { k: 'meter', tx: 1, wh: 150, at: LATER }],
    record: { k: 'meter', tx: 1, wh: 120, at: AT },
    expect: { open: [{ localId: 1, lastMeter: { wh: 150, at: LATER } }] },
  },
  { name: 'meter: for no open transaction, nothing', before: [], record: { k: 'meter', tx: 4, wh: 150, at: LATER }, expect: { open: [] } },
  {
    name: 'msg: queued in order',
    before: [OPEN, START],
    record: { ...START, seq: 2, action: 'MeterValues', payload: {} },
    expect: { messages: ['1:StartTransaction:0', '2:MeterValues:0'] },
  },
  {
    name: 'msg: a seq already queued is not queued twice (a replayed tail)',
    before: [OPEN, START],
    record: START,
    expect: { messages: ['1:StartTransaction:0'] },
  },
  {
    name: 'msg: its failures come along (a compacted journal)',
    before: [],
    record: { ...START, failures: 2 },
    expect: { messages: ['1:StartTransaction:2'] },
  },
  {
    name: 'msg: a StopTransaction closes its transaction',
    before: [OPEN, START],
    record: { k: 'msg', seq: 2, tx: 1, action: 'StopTransaction', payload: { meterStop: 200 } },
    expect: { open: [], messages: ['1:StartTransaction:0', '2:StopTransaction:0'] },
  },
  {
    name: 'msg: a MeterValues with the energy register is a kept reading too, in the same record',
    before: [OPEN],
    record: { k: 'msg', seq: 2, tx: 1, action: 'MeterValues', payload: reading(180) },
    expect: { open: [{ localId: 1, lastMeter: { wh: 180, at: LATER } }] },
  },
  {
    name: 'msg: a signed record is not a reading (its value is the meter’s signed data)',
    before: [OPEN],
    record: { k: 'msg', seq: 2, tx: 1, action: 'MeterValues', payload: reading(180, 'SignedData') },
    expect: { open: [{ localId: 1, lastMeter: null }] },
  },
  {
    name: 'msg: a MeterValues payload that is not one (damaged, older) gives no reading and no crash',
    before: [OPEN],
    record: { k: 'msg', seq: 2, tx: 1, action: 'MeterValues', payload: { meterValue: [{ sampledValue: 'x' }, 7] } },
    expect: { open: [{ localId: 1, lastMeter: null }] },
  },
  {
    name: 'txid: StartTransaction.conf’s transactionId',
    before: [OPEN],
    record: { k: 'txid', tx: 1, id: 501 },
    expect: { txIds: [[1, 501]] },
  },
  {
    name: 'fail: the attempts so far',
    before: [OPEN, START],
    record: { k: 'fail', seq: 1, failures: 2 },
    expect: { messages: ['1:StartTransaction:2'] },
  },
  { name: 'done: confirmed or given up on, gone', before: [OPEN, START], record: { k: 'done', seq: 1 }, expect: { messages: [] } },
  {
    name: 'done: of a seq not queued, nothing',
    before: [OPEN, START],
    record: { k: 'done', seq: 9 },
    expect: { messages: ['1:StartTransaction:0'] },
  },
];

for (const row of ROWS) {
  t.test(row.name, async (t) => {
    const state = after(row.before);
    applyRecord(state, row.record);
    t.match(view(state), row.expect);
  });
}

t.test('replayed from disk, the counters go past every seq and local id seen', async (t) => {
  const state = emptyJournalState();
  for (const record of [OPEN, START, { ...START, seq: 7, tx: 3 }] satisfies QueueRecord[]) replayRecord(state, record);
  t.equal(state.nextSeq, 8);
  t.equal(state.nextTx, 4);
});

t.test('the live records rebuild the same state, without transactionIds no longer needed', async (t) => {
  const state = emptyJournalState();
  for (const record of [
    OPEN,
    START,
    { k: 'txid', tx: 1, id: 501 },
    { k: 'meter', tx: 1, wh: 150, at: LATER },
    { k: 'txid', tx: 2, id: 502 },
    { k: 'fail', seq: 1, failures: 1 },
  ] satisfies QueueRecord[])
    replayRecord(state, record);
  const records = liveRecords(state);
  t.same(state.txIds, new Map([[1, 501]]), 'transaction 2 has neither messages nor an open transaction');
  const rebuilt = emptyJournalState();
  for (const record of records) replayRecord(rebuilt, record);
  t.same(view(rebuilt), view(state));
});

t.test('signed MeterValues are billing evidence (never thinned); sampled ones are not', async (t) => {
  t.ok(carriesSignedData(reading(1, 'SignedData')));
  t.notOk(carriesSignedData(reading(1)));
  t.notOk(carriesSignedData({ meterValue: 'x' }), 'a damaged payload is not');
});

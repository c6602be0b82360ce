import { Type, type Static } from '@sinclair/typebox';
import { registerReading } from './meter-sample.js';
import { storedCheck } from './stored-check.js';

export type TxAction = 'StartTransaction' | 'StopTransaction' | 'MeterValues';

/** A transaction the box opened, as the journal keeps it until its StopTransaction is queued. */
export interface OpenTransaction {
  readonly localId: number;
  readonly idTag: string;
  readonly meterStartWh: number;
  readonly startedAt: string;
  /** The last meter reading kept for it (null: none since the start). */
  readonly lastMeter: { readonly wh: number; readonly at: string } | null;
}

const Int = Type.Integer();
const Payload = Type.Record(Type.String(), Type.Unknown());
/** The journal's records (`dataDir/ocpp-transactions.jsonl`); the payloads are checked by their OCPP schema when sent. */
const QueueRecordSchema = Type.Union([
  Type.Object({ k: Type.Literal('ids'), nextSeq: Int, nextTx: Int }),
  Type.Object({ k: Type.Literal('open'), tx: Int, idTag: Type.String(), meterStartWh: Type.Number(), startedAt: Type.String() }),
  Type.Object({ k: Type.Literal('meter'), tx: Int, wh: Type.Number(), at: Type.String() }),
  Type.Object({
    k: Type.Literal('msg'),
    seq: Int,
    tx: Int,
    action: Type.Union([Type.Literal('StartTransaction'), Type.Literal('StopTransaction'), Type.Literal('MeterValues')]),
    payload: Payload,
    failures: Type.Optional(Int),
  }),
  Type.Object({ k: Type.Literal('txid'), tx: Int, id: Int }),
  Type.Object({ k: Type.Literal('fail'), seq: Int, failures: Int }),
  Type.Object({ k: Type.Literal('done'), seq: Int }),
]);
export type QueueRecord = Static<typeof QueueRecordSchema>;

/** A record as the journal holds it, read back through its schema. */
export const isQueueRecord = storedCheck(QueueRecordSchema);

/** A message given up on, as the dead-letter file (`dataDir/ocpp-dead-letter.jsonl`) keeps it. */
const DeadLetterSchema = Type.Object({
  at: Type.String(),
  reason: Type.String(),
  action: Type.String(),
  localId: Int,
  payload: Payload,
});
export type DeadLetter = Static<typeof DeadLetterSchema>;
export const isDeadLetter = storedCheck(DeadLetterSchema);

export interface Queued {
  readonly seq: number;
  readonly tx: number;
  readonly action: TxAction;
  /** Without transactionId for StopTransaction and MeterValues: it is added at send time. */
  readonly payload: Record<string, unknown>;
  failures: number;
}

/** What the journal describes: messages not yet confirmed, transactionIds, open transactions, the next ids. */
export interface JournalState {
  messages: Queued[];
  readonly txIds: Map<number, number>;
  readonly open: Map<number, OpenTransaction>;
  nextSeq: number;
  nextTx: number;
}

export function emptyJournalState(): JournalState {
  return { messages: [], txIds: new Map(), open: new Map(), nextSeq: 1, nextTx: 1 };
}

/** The journal's reducer: `state` after `record` (changed in place: the queue can hold thousands of messages). */
export function applyRecord(state: JournalState, record: QueueRecord): void {
  switch (record.k) {
    case 'ids':
      state.nextSeq = Math.max(state.nextSeq, record.nextSeq);
      state.nextTx = Math.max(state.nextTx, record.nextTx);
      break;
    case 'open':
      state.open.set(record.tx, {
        localId: record.tx,
        idTag: record.idTag,
        meterStartWh: record.meterStartWh,
        startedAt: record.startedAt,
        lastMeter: null,
      });
      break;
    case 'meter':
      meterOf(state, record.tx, { wh: record.wh, at: record.at });
      break;
    case 'msg':
      if (!state.messages.some((m) => m.seq === record.seq))
        state.messages.push({
          seq: record.seq,
          tx: record.tx,
          action: record.action,
          payload: record.payload,
          failures: record.failures ?? 0,
        });
      if (record.action === 'StopTransaction') state.open.delete(record.tx);
      // A MeterValues is a kept reading too, in the same record: a crash cannot separate them.
      if (record.action === 'MeterValues') {
        const values = record.payload['meterValue'];
        meterOf(state, record.tx, registerReading(Array.isArray(values) ? values : []));
      }
      break;
    case 'txid':
      state.txIds.set(record.tx, record.id);
      break;
    case 'fail': {
      const message = state.messages.find((m) => m.seq === record.seq);
      if (message) message.failures = record.failures;
      break;
    }
    case 'done':
      state.messages = state.messages.filter((m) => m.seq !== record.seq);
      break;
  }
}

/** A record loaded from the journal: the state it describes, with the counters past it. */
export function replayRecord(state: JournalState, record: QueueRecord): void {
  applyRecord(state, record);
  if (record.k === 'msg') {
    state.nextSeq = Math.max(state.nextSeq, record.seq + 1);
    state.nextTx = Math.max(state.nextTx, record.tx + 1);
  }
  if (record.k === 'open') state.nextTx = Math.max(state.nextTx, record.tx + 1);
}

/** The latest reading of an open transaction, never lowered. */
function meterOf(state: JournalState, localId: number, reading: { wh: number; at: string } | null): void {
  const open = state.open.get(localId);
  if (!open || reading === null || (open.lastMeter !== null && reading.wh < open.lastMeter.wh)) return;
  state.open.set(localId, { ...open, lastMeter: reading });
}

/** The live state as records: counters, open transactions, ids still needed, queued messages (ids no longer needed are dropped). */
export function liveRecords(state: JournalState): QueueRecord[] {
  const needed = new Set([...state.messages.map((m) => m.tx), ...state.open.keys()]);
  for (const tx of [...state.txIds.keys()]) if (!needed.has(tx)) state.txIds.delete(tx);
  const records: QueueRecord[] = [{ k: 'ids', nextSeq: state.nextSeq, nextTx: state.nextTx }];
  for (const open of state.open.values()) {
    records.push({ k: 'open', tx: open.localId, idTag: open.idTag, meterStartWh: open.meterStartWh, startedAt: open.startedAt });
    if (open.lastMeter) records.push({ k: 'meter', tx: open.localId, wh: open.lastMeter.wh, at: open.lastMeter.at });
  }
  for (const [tx, id] of state.txIds) records.push({ k: 'txid', tx, id });
  for (const m of state.messages)
    records.push({ k: 'msg', seq: m.seq, tx: m.tx, action: m.action, payload: m.payload, failures: m.failures });
  return records;
}

/** A MeterValues with a meter's signed record: billing evidence, never thinned. */
export function carriesSignedData(payload: Record<string, unknown>): boolean {
  const values = payload['meterValue'];
  return (
    Array.isArray(values) &&
    values.some((value: unknown) => {
      const sampled = typeof value === 'object' && value !== null && 'sampledValue' in value ? value.sampledValue : [];
      return (
        Array.isArray(sampled) &&
        sampled.some((s: unknown) => typeof s === 'object' && s !== null && 'format' in s && s.format === 'SignedData')
      );
    })
  );
}

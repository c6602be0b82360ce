import type { MarkerFile } from './open-transaction-marker.js';
import type { OpenTransaction, QueueRecord, TxAction } from './tx-journal.js';

/** The journal's part as it is for `repair`: the transaction queue after replaying what the journal still had. */
export interface JournalView {
  /** Opening the journal skipped damaged lines or found numbers missing. */
  readonly readDamaged: boolean;
  /** The number of its last record (0: none). */
  readonly lastNumber: number;
  /** Its last record unnumbered: a version before the marker wrote the journal since (`JournalRead`). */
  readonly olderWriterLast: boolean;
  readonly records: readonly QueueRecord[];
  readonly open: ReadonlyMap<number, OpenTransaction>;
  readonly txIds: ReadonlyMap<number, number>;
  readonly messages: ReadonlyArray<{ readonly seq: number; readonly tx: number; readonly action: TxAction }>;
  readonly nextSeq: number;
}

/** What `repair` found and the records that give back what the journal lost. */
export interface Repair {
  readonly records: QueueRecord[];
  readonly findings: Array<{ readonly msg: string; readonly fields: Record<string, unknown> }>;
  /** Marked transactions the journal finished normally (their marker was not cleared before a crash). */
  readonly stale: number[];
  /** The journal lost records (damaged lines, numbers missing, or its tail below the marker's number). */
  readonly journalLost: boolean;
  /** Open transactions the journal no longer knew, closed from the marker. */
  readonly restored: number;
}

/**
 * The pure part: compares the marker with what the journal still has. A journal that lost
 * records (CONTRACT §6) gets back, from the marker, each open transaction it no longer knows (its
 * StartTransaction again if it was never confirmed, and its StopTransaction as queued, else the
 * recovery at boot closes it with the marker's last reading), a StartTransaction confirmation,
 * a later meter reading, a queued StopTransaction; a StopTransaction the marker knows was
 * confirmed is never sent again. An intact journal is trusted: a marked transaction it no longer
 * knows was finished (the crash came before its marker was cleared).
 */
export function repairFromMarker(marker: MarkerFile, journal: JournalView): Repair {
  const records: QueueRecord[] = [];
  const findings: Repair['findings'] = [];
  const stale: number[] = [];
  let restored = 0;
  // After a rollback to a version without the marker (it kept the journal but not the marker),
  // the marker is stale: the transactions it holds may have been closed since. The journal is
  // trusted as before the marker existed, the marker's transactions dropped.
  if (journal.olderWriterLast)
    return { records, findings, stale: marker.open.map((m) => m.localId), journalLost: journal.readDamaged, restored };
  const tailLost = journal.lastNumber < marker.journalNumber;
  const journalLost = journal.readDamaged || tailLost;
  if (tailLost)
    findings.push({
      msg: 'journal: its tail is gone (media damage)',
      fields: { lastRecord: journal.lastNumber, markerSawOnDisk: marker.journalNumber },
    });
  let seq = journal.nextSeq;
  const message = (tx: number, action: TxAction, payload: Record<string, unknown>): void => {
    records.push({ k: 'msg', seq: seq++, tx, action, payload });
  };
  for (const marked of marker.open) {
    const tx = marked.localId;
    const pending = journal.messages.filter((m) => m.tx === tx);
    const running = journal.open.get(tx);
    const closing = pending.some((m) => m.action === 'StopTransaction');
    const gone = running === undefined && !closing;
    if (gone && !journalLost) {
      stale.push(tx);
      continue;
    }
    if (gone) {
      restored += 1;
      const { idTag, meterStart, timestamp } = marked.start;
      records.push({ k: 'open', tx, idTag, meterStartWh: meterStart, startedAt: timestamp });
      findings.push({
        msg: 'journal lost an open transaction: closed from its marker',
        fields: {
          localId: tx,
          transactionId: marked.transactionId,
          lastMeterWh: marked.lastMeter?.wh ?? meterStart,
          stopQueued: marked.stop !== null,
        },
      });
    }
    if (marked.lastMeter !== null && (gone || (running !== undefined && (running.lastMeter?.wh ?? -Infinity) < marked.lastMeter.wh))) {
      records.push({ k: 'meter', tx, wh: marked.lastMeter.wh, at: marked.lastMeter.at });
      if (!gone)
        findings.push({
          msg: 'journal lost meter readings: the marker’s later one restored',
          fields: { localId: tx, wh: marked.lastMeter.wh },
        });
    }
    const hasTxId = journal.txIds.has(tx);
    if (marked.transactionId !== null && !hasTxId) {
      records.push({ k: 'txid', tx, id: marked.transactionId });
      for (const start of pending.filter((m) => m.action === 'StartTransaction')) records.push({ k: 'done', seq: start.seq });
      if (!gone)
        findings.push({
          msg: 'journal lost a StartTransaction confirmation: restored from the marker, not sent again',
          fields: { localId: tx, transactionId: marked.transactionId },
        });
    } else if (marked.transactionId === null && !hasTxId && !pending.some((m) => m.action === 'StartTransaction')) {
      // Never confirmed, and its StartTransaction lost with the journal's records: sent first.
      message(tx, 'StartTransaction', marked.start);
      if (!gone) findings.push({ msg: 'journal lost a StartTransaction: queued again from the marker', fields: { localId: tx } });
    }
    if (marked.stop !== null && !closing) {
      message(tx, 'StopTransaction', marked.stop);
      if (!gone) findings.push({ msg: 'journal lost a queued StopTransaction: queued again from the marker', fields: { localId: tx } });
    }
  }
  const finished = new Set(marker.finished);
  for (const m of journal.messages.filter((m) => m.action === 'StopTransaction' && finished.has(m.tx))) {
    records.push({ k: 'done', seq: m.seq });
    findings.push({ msg: 'a StopTransaction the central system confirmed was pending again: not sent again', fields: { localId: m.tx } });
  }
  const localIds = [...marker.open.map((m) => m.localId), ...marker.finished];
  // Local ids of lost transactions are never given out again.
  if (localIds.length > 0) records.push({ k: 'ids', nextSeq: seq, nextTx: Math.max(...localIds) + 1 });
  return { records, findings, stale, journalLost, restored };
}

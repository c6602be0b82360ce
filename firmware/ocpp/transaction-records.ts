import type { Logger } from '../log.js';
import type { ChargingPort } from '../charging/port.js';
import type { OcppConfiguration } from './model/configuration.js';
import { meterValue, type MeterValue } from './model/meter-sample.js';
import type { TxQueue } from './model/tx-queue.js';
import * as MeterValues from './operations/MeterValues.js';
import * as StartTransaction from './operations/StartTransaction.js';
import * as StopTransaction from './operations/StopTransaction.js';
import { signedMeterValue } from './signed-meter-values.js';
import type { EndedTransaction, RecoveryReason, StopReason, Transaction } from './transaction-types.js';

/** What a transaction's records need: the journal and the owner's history. */
export interface RecordDeps {
  readonly queue: Pick<TxQueue, 'openTransaction' | 'openTransactions' | 'push'>;
  readonly log: Logger;
  readonly connectorId: number;
  /** OCPP time now, ISO 8601. */
  readonly timestamp: () => string;
  readonly onEnded?: (ended: EndedTransaction) => void;
}

/** A new transaction, opened in the journal (its messages follow with `queueStart`). */
export function openTransaction(
  deps: RecordDeps,
  start: Pick<Transaction, 'idTag' | 'parentIdTag' | 'meterStartWh' | 'chargingProfile'>,
): Transaction {
  const { idTag, meterStartWh } = start;
  const startedAt = deps.timestamp();
  const localId = deps.queue.openTransaction({ idTag, meterStartWh, startedAt });
  return { ...start, localId, transactionId: null, startedAt, authorized: true };
}

/**
 * Its StartTransaction into the journal, and the signing meter's begin record right after it
 * (1.6's StartTransaction cannot carry it; CONTRACT §9).
 */
export function queueStart(deps: RecordDeps, tx: Transaction, reservationId: number | null, signedBegin: string | null): void {
  const { queue, connectorId } = deps;
  const { localId, idTag, meterStartWh, startedAt } = tx;
  deps.log.info('transaction started', { localId, idTag });
  queue.push('StartTransaction', localId, StartTransaction.request({ connectorId, idTag, meterStartWh, startedAt, reservationId }));
  if (signedBegin !== null)
    queue.push('MeterValues', localId, MeterValues.request(connectorId, [signedMeterValue(signedBegin, 'Transaction.Begin', startedAt)]));
}

/** What the end of a running transaction reads, besides its records' needs. */
interface EndDeps {
  readonly charging: Pick<ChargingPort, 'status'>;
  readonly configuration: Pick<OcppConfiguration, 'list'>;
}

/**
 * The end of the running `tx`, stopped by `stoppedBy` (another card of its group, else its own
 * idTag): the reading as `endReading` takes it, its StopTransaction into the journal and the entry
 * of the owner's history.
 */
export function recordStop(
  deps: RecordDeps & EndDeps,
  tx: Transaction,
  stop: { readonly reason: StopReason; readonly stoppedBy: string; readonly signedEnd: string | null },
): void {
  const end = endReading(deps, tx, stop.signedEnd);
  deps.log.info('transaction stopped', { localId: tx.localId, reason: stop.reason, meterStop: end.meterStopWh });
  closeTransaction(deps, tx, { ...end, stoppedBy: stop.stoppedBy, reason: stop.reason });
}

/**
 * What the end of `tx` records: the meter reading (its start's when the meter is lost), the
 * time, and the transaction data: StopTxnSampledData and the signing meter's end record.
 */
function endReading(
  deps: EndDeps & { readonly timestamp: () => string },
  tx: Pick<Transaction, 'meterStartWh'>,
  signedEnd: string | null,
): { readonly meterStopWh: number; readonly timestamp: string; readonly transactionData: readonly MeterValue[] } {
  const status = deps.charging.status();
  const measurands = deps.configuration.list('StopTxnSampledData');
  const timestamp = deps.timestamp();
  const sampled = measurands.length > 0 ? [meterValue(status, measurands, 'Transaction.End', timestamp)] : [];
  const signed = signedEnd !== null ? [signedMeterValue(signedEnd, 'Transaction.End', timestamp)] : [];
  return { meterStopWh: Math.round(status.meter?.energyWh ?? tx.meterStartWh), timestamp, transactionData: [...sampled, ...signed] };
}

/** The end of a transaction: its StopTransaction into the journal, and the entry of the owner's history. */
export function closeTransaction(
  deps: RecordDeps,
  tx: Pick<Transaction, 'localId' | 'transactionId' | 'idTag' | 'startedAt' | 'meterStartWh'>,
  end: {
    /** The idTag that stopped it (another card of its group), else its own. */
    readonly stoppedBy: string;
    readonly meterStopWh: number;
    readonly timestamp: string;
    readonly reason: StopReason;
    readonly transactionData: readonly MeterValue[];
  },
): void {
  const { stoppedBy, meterStopWh, timestamp, reason, transactionData } = end;
  deps.queue.push(
    'StopTransaction',
    tx.localId,
    StopTransaction.request({ idTag: stoppedBy, meterStopWh, timestamp, reason, transactionData }),
  );
  const { localId, transactionId, idTag, startedAt, meterStartWh } = tx;
  deps.onEnded?.({ localId, transactionId, idTag, startedAt, stoppedAt: timestamp, meterStartWh, meterStopWh, reason });
}

/**
 * At boot: transactions the journal still has open were cut by a crash or a power loss. Each is
 * closed with StopTransaction, its last kept meter reading and time, and `reason` (Reboot when
 * only the process restarted, PowerLoss when the machine did). The signing meter's end record of
 * the transaction it had open goes with the latest one cut (CONTRACT §9).
 */
export function closeCutTransactions(deps: RecordDeps, reason: RecoveryReason, signedEndRecord: string | null): void {
  const cut = deps.queue.openTransactions;
  for (const open of cut) {
    const meterStopWh = Math.round(open.lastMeter?.wh ?? open.meterStartWh);
    const timestamp = open.lastMeter?.at ?? open.startedAt;
    deps.log.warn('transaction cut by a restart: closed', { localId: open.localId, reason, meterStop: meterStopWh, timestamp });
    const latest = open === cut[cut.length - 1];
    const transactionData =
      signedEndRecord !== null && latest ? [signedMeterValue(signedEndRecord, 'Transaction.End', deps.timestamp())] : [];
    closeTransaction(deps, { ...open, transactionId: null }, { stoppedBy: open.idTag, meterStopWh, timestamp, reason, transactionData });
  }
}

import type { CentralSystem } from './central-system.js';

/**
 * What the central system received of the transaction messages, with the connection each came
 * on, and an audit of it: duplicates, lost transactions, transactionIds, order, meter readings.
 */

export interface LedgerEntry {
  readonly index: number;
  readonly action: 'StartTransaction' | 'StopTransaction' | 'MeterValues';
  readonly params: Record<string, any>;
  /** Which connection of the charge point it came on (1 = the first). */
  readonly connection: number;
  /** The transactionId the central system answered a StartTransaction with. */
  readonly transactionId?: number;
}

export interface Audit {
  readonly received: number;
  readonly duplicated: number;
  /** Distinct messages: what the firmware sent. */
  readonly sent: number;
  readonly transactions: number;
  /** Transactions (distinct StartTransaction) without a StopTransaction. */
  readonly lost: number;
  readonly stopReasons: Record<string, number>;
  readonly meterValues: number;
  readonly violations: string[];
}

/** Records StartTransaction, StopTransaction and MeterValues at `cs`, answering like its defaults. */
export function keepLedger(cs: CentralSystem): LedgerEntry[] {
  const ledger: LedgerEntry[] = [];
  let nextId = 1000;
  const record = (action: LedgerEntry['action'], params: Record<string, any>, extra: Partial<LedgerEntry> = {}): void => {
    ledger.push({ index: ledger.length, action, params, connection: cs.connections.length, ...extra });
  };
  cs.handlers.StartTransaction = (params) => {
    const transactionId = ++nextId;
    record('StartTransaction', params, { transactionId });
    return { transactionId, idTagInfo: { status: 'Accepted' } };
  };
  cs.handlers.StopTransaction = (params) => {
    record('StopTransaction', params);
    return { idTagInfo: { status: 'Accepted' } };
  };
  cs.handlers.MeterValues = (params) => {
    if (params['transactionId'] !== undefined) record('MeterValues', params);
    return {};
  };
  return ledger;
}

const energyOf = (e: LedgerEntry): number[] => {
  if (e.action === 'StartTransaction') return [e.params['meterStart'] as number];
  if (e.action === 'StopTransaction') return [e.params['meterStop'] as number];
  return (e.params['meterValue'] as Array<{ sampledValue: Array<{ measurand?: string; value: string }> }>).flatMap((mv) =>
    mv.sampledValue.filter((s) => s.measurand === 'Energy.Active.Import.Register').map((s) => Number(s.value)),
  );
};

const identity = (e: LedgerEntry): string => `${e.action} ${JSON.stringify(e.params)}`;

export function audit(ledger: readonly LedgerEntry[]): Audit {
  const violations: string[] = [];
  const firstCopy = new Map<string, LedgerEntry>();
  const distinct: LedgerEntry[] = [];
  let duplicated = 0;
  for (const entry of ledger) {
    const key = identity(entry);
    const first = firstCopy.get(key);
    if (first === undefined) {
      firstCopy.set(key, entry);
      distinct.push(entry);
      continue;
    }
    duplicated += 1;
    // The only allowed window: the first copy was the last message on a connection that then went away.
    const later = ledger.some((other) => other.connection === first.connection && other.index > first.index);
    if (later) violations.push(`duplicate outside the window: ${key.slice(0, 120)}`);
  }
  // Each distinct StartTransaction's transactionId is the one answered to its last copy.
  const finalId = new Map<string, number>();
  for (const entry of ledger)
    if (entry.action === 'StartTransaction') finalId.set(JSON.stringify(entry.params), entry.transactionId as number);
  const startIndexOf = new Map<number, number>();
  for (const entry of ledger)
    if (entry.action === 'StartTransaction' && finalId.get(JSON.stringify(entry.params)) === entry.transactionId)
      startIndexOf.set(entry.transactionId as number, entry.index);
  const stops = distinct.filter((e) => e.action === 'StopTransaction');
  const stopped = new Set(stops.map((e) => e.params['transactionId'] as number));
  for (const entry of distinct) {
    if (entry.action === 'StartTransaction') continue;
    const id = entry.params['transactionId'] as number;
    const startIndex = startIndexOf.get(id);
    if (startIndex === undefined)
      violations.push(`${entry.action} #${entry.index} carries transactionId ${id}, which no StartTransaction was finally given`);
    else if (startIndex > entry.index) violations.push(`${entry.action} #${entry.index} arrived before its StartTransaction`);
  }
  if (stops.length !== stopped.size) violations.push('two StopTransactions for one transaction');
  let lastWh = -Infinity;
  for (const entry of distinct) {
    for (const wh of energyOf(entry)) {
      if (wh < lastWh) violations.push(`meter went backwards at #${entry.index} (${entry.action}): ${wh} Wh after ${lastWh} Wh`);
      lastWh = Math.max(lastWh, wh);
    }
  }
  const stopReasons: Record<string, number> = {};
  for (const stop of stops) stopReasons[String(stop.params['reason'])] = (stopReasons[String(stop.params['reason'])] ?? 0) + 1;
  return {
    received: ledger.length,
    duplicated,
    sent: distinct.length,
    transactions: startIndexOf.size,
    lost: [...startIndexOf.keys()].filter((id) => !stopped.has(id)).length,
    stopReasons,
    meterValues: distinct.filter((e) => e.action === 'MeterValues').length,
    violations,
  };
}

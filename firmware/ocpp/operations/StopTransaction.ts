import type { RequestOf, ResponseOf } from '../messages.js';
import type { MeterValue } from '../model/meter-sample.js';
import type { OcppServices } from '../services.js';
import type { StopReason } from '../transaction-types.js';

/** What this operation uses of the charge point. */
export type Deps = Pick<OcppServices, 'rpc'>;

/** StopTransaction.req as the journal keeps it: the transactionId is added at send time, from StartTransaction.conf. */
export type KeptStopTransaction = Omit<RequestOf<'StopTransaction'>, 'transactionId'>;

/**
 * A transaction's end as StopTransaction.req (OCPP 1.6 §6.49): the idTag that stopped it, the
 * meter reading and time, the reason, and the transaction data (StopTxnSampledData, signed
 * records) when there is any.
 */
export function request(stop: {
  readonly idTag: string;
  readonly meterStopWh: number;
  readonly timestamp: string;
  readonly reason: StopReason;
  readonly transactionData: readonly MeterValue[];
}): KeptStopTransaction {
  const { idTag, meterStopWh, timestamp, reason, transactionData } = stop;
  return { idTag, meterStop: meterStopWh, timestamp, reason, ...(transactionData.length > 0 && { transactionData }) };
}

/** StopTransaction (sent by the charge point, from the journal): the verdict on the idTag, if any. */
export function send(cp: Deps, request: RequestOf<'StopTransaction'>): Promise<ResponseOf<'StopTransaction'>> {
  return cp.rpc.call('StopTransaction', request);
}

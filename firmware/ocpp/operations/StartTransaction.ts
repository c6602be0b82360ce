import type { RequestOf, ResponseOf } from '../messages.js';
import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
export type Deps = Pick<OcppServices, 'rpc'>;

export type StartTransactionRequest = RequestOf<'StartTransaction'>;

/** A transaction's start as StartTransaction.req (OCPP 1.6 §6.45); the journal keeps it until it is sent. */
export function request(start: {
  readonly connectorId: number;
  readonly idTag: string;
  readonly meterStartWh: number;
  readonly startedAt: string;
  readonly reservationId: number | null;
}): StartTransactionRequest {
  const { connectorId, idTag, meterStartWh, startedAt, reservationId } = start;
  return { connectorId, idTag, meterStart: meterStartWh, timestamp: startedAt, ...(reservationId !== null && { reservationId }) };
}

/** StartTransaction (sent by the charge point, from the journal): the transactionId and the verdict on the idTag. */
export function send(cp: Deps, request: StartTransactionRequest): Promise<ResponseOf<'StartTransaction'>> {
  return cp.rpc.call('StartTransaction', request);
}

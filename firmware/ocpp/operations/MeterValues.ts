import type { RequestOf, ResponseOf } from '../messages.js';
import type { MeterValue } from '../model/meter-sample.js';
import type { OcppServices } from '../services.js';

/** What this operation uses of the charge point. */
export type Deps = Pick<OcppServices, 'rpc'>;

/** MeterValues.req as the journal keeps it: a transaction's gets its transactionId at send time. */
export type KeptMeterValues = Omit<RequestOf<'MeterValues'>, 'transactionId'>;

/** Meter values of the connector as MeterValues.req (OCPP 1.6 §6.31). */
export function request(connectorId: number, meterValue: readonly MeterValue[]): KeptMeterValues {
  return { connectorId, meterValue };
}

/** MeterValues (sent by the charge point): a transaction's from the journal, others (clock-aligned, triggered) at once. */
export function send(cp: Deps, request: RequestOf<'MeterValues'>): Promise<ResponseOf<'MeterValues'>> {
  return cp.rpc.call('MeterValues', request);
}

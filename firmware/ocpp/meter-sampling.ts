import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { ChargingPort } from '../charging/port.js';
import type { OcppConfiguration } from './model/configuration.js';
import { meterValue } from './model/meter-sample.js';
import type { TxQueue } from './model/tx-queue.js';
import * as MeterValues from './operations/MeterValues.js';
import type { OcppRpc } from './rpc.js';
import type { Transaction } from './transaction-types.js';

/**
 * While a transaction runs its meter reading is kept in the journal every time it has grown by
 * this much (checked every second): a crash leaves at most this plus one second of charging
 * unaccounted for.
 */
export const METER_KEEP_STEP_WH = 10;
const METER_CHECK_MS = 1000;

export interface MeterSamplingOptions {
  readonly rpc: OcppRpc;
  readonly queue: Pick<TxQueue, 'push' | 'recordMeter'>;
  readonly charging: Pick<ChargingPort, 'status'>;
  readonly configuration: Pick<OcppConfiguration, 'integer' | 'list'>;
  readonly clock: Clock;
  readonly connectorId: number;
  /** OCPP time now, ISO 8601. */
  readonly timestamp: () => string;
  /** The backend answers (Boot accepted and the link up). */
  readonly online: () => boolean;
  /** The running transaction, if any. */
  readonly transaction: () => Transaction | null;
}

/**
 * MeterValues: periodic samples of a running transaction (MeterValueSampleInterval,
 * MeterValuesSampledData) through the transaction queue, clock-aligned ones
 * (ClockAlignedDataInterval, MeterValuesAlignedData) with or without a transaction, triggered
 * ones, and the reading kept in the journal for a transaction a crash might cut.
 */
export class MeterSampler {
  readonly #o: MeterSamplingOptions;
  #sampleTimer: TimerHandle | null = null;
  #alignedTimer: TimerHandle | null = null;
  #meterTimer: TimerHandle | null = null;
  #keptWh = 0;

  constructor(options: MeterSamplingOptions) {
    this.#o = options;
  }

  /** A transaction started: periodic samples and the kept reading follow it. */
  started(tx: Transaction): void {
    this.startSampling();
    this.#keepMeter(tx);
  }

  /** The transaction ended (or the service closed): no more periodic samples or kept readings. */
  stopped(): void {
    this.#clear('sample');
    this.#clear('meter');
  }

  /** Everything stops (the charge point stopped). */
  close(): void {
    this.stopped();
    this.#clear('aligned');
  }

  /** Sends a MeterValues now (TriggerMessage). */
  sampleNow(): void {
    this.#sample('Trigger', 'MeterValuesSampledData');
  }

  /** Clock-aligned meter values at every multiple of ClockAlignedDataInterval since midnight UTC; call again after it changes. */
  scheduleAligned(): void {
    this.#clear('aligned');
    const intervalMs = this.#o.configuration.integer('ClockAlignedDataInterval') * 1000;
    if (intervalMs <= 0) return;
    const nowMs = Date.parse(this.#o.timestamp());
    const delayMs = intervalMs - (nowMs % intervalMs);
    this.#alignedTimer = this.#o.clock.setTimeout(() => {
      this.#alignedTimer = null;
      this.#sample('Sample.Clock', 'MeterValuesAlignedData');
      this.scheduleAligned();
    }, delayMs);
  }

  /** MeterValueSampleInterval changed: a running transaction samples at the new interval from now on. */
  sampleIntervalChanged(): void {
    if (this.#o.transaction() !== null) this.startSampling();
  }

  /** Periodic samples at MeterValueSampleInterval from now (also after it changed). */
  startSampling(): void {
    this.#clear('sample');
    const intervalS = this.#o.configuration.integer('MeterValueSampleInterval');
    if (intervalS <= 0) return;
    this.#sampleTimer = this.#o.clock.setTimeout(() => {
      this.#sampleTimer = null;
      this.#sample('Sample.Periodic', 'MeterValuesSampledData');
      if (this.#o.transaction()) this.startSampling();
    }, intervalS * 1000);
  }

  /** Keeps the meter reading of `tx` in the journal every METER_KEEP_STEP_WH. */
  #keepMeter(tx: Transaction): void {
    this.#clear('meter');
    this.#keptWh = tx.meterStartWh;
    const check = (): void => {
      if (this.#o.transaction() !== tx) return;
      const wh = this.#o.charging.status().meter?.energyWh;
      if (wh !== undefined && wh - this.#keptWh >= METER_KEEP_STEP_WH) {
        this.#keptWh = wh;
        this.#o.queue.recordMeter(tx.localId, wh, this.#o.timestamp());
      }
      this.#meterTimer = this.#o.clock.setTimeout(check, METER_CHECK_MS);
    };
    this.#meterTimer = this.#o.clock.setTimeout(check, METER_CHECK_MS);
  }

  #clear(which: 'sample' | 'aligned' | 'meter'): void {
    const timer = which === 'sample' ? this.#sampleTimer : which === 'aligned' ? this.#alignedTimer : this.#meterTimer;
    if (timer !== null) this.#o.clock.clearTimeout(timer);
    if (which === 'sample') this.#sampleTimer = null;
    else if (which === 'aligned') this.#alignedTimer = null;
    else this.#meterTimer = null;
  }

  #sample(
    context: 'Sample.Periodic' | 'Sample.Clock' | 'Trigger',
    measurandsKey: 'MeterValuesSampledData' | 'MeterValuesAlignedData',
  ): void {
    const { charging, configuration, connectorId, queue, rpc } = this.#o;
    const tx = this.#o.transaction();
    const value = meterValue(charging.status(), configuration.list(measurandsKey), context, this.#o.timestamp());
    if (value.sampledValue.length === 0) return;
    const request = MeterValues.request(connectorId, [value]);
    if (!tx) {
      if (this.#o.online()) void MeterValues.send({ rpc }, request).catch(() => {});
      return;
    }
    queue.push('MeterValues', tx.localId, request);
  }
}

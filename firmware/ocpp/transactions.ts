import type { ChargingStatus } from '../charging/controller.js';
import { Authorizer } from './authorize.js';
import type { ChargingProfile } from './model/charging-profile.js';
import { METER_KEEP_STEP_WH, MeterSampler } from './meter-sampling.js';
import type { TxAction, TxResponse } from './model/tx-queue.js';
import { closeCutTransactions, closeTransaction, endReading, openTransaction, queueStart } from './transaction-records.js';
import { TransactionCharging } from './transaction-charging.js';
import { ReservationHolder, type Reservation } from './reservation.js';
import type { EndedTransaction, RecoveryReason, StopReason, Transaction, TransactionServiceOptions } from './transaction-types.js';
import { blocksCharging } from '../safety/faults.js';
import {
  INITIAL_TX_STATE,
  isFinishing,
  mayStart,
  runningTransaction,
  stepTransaction,
  waitingAt,
  type TxEffect,
  type TxEvent,
  type TxState,
} from './transaction-state.js';

export type { EndedTransaction, RecoveryReason, StopReason, Transaction, TransactionServiceOptions };

export { METER_KEEP_STEP_WH };

/**
 * CONTRACT §5 transactions: who may start one (a fixed idTag at plug-in, a card, RemoteStart),
 * authorisation online and offline, StartTransaction / StopTransaction / MeterValues through the
 * transaction queue, and the permission it gives the charging core. A transaction runs from the
 * authorised start until unplug, RemoteStop, a stop by card, a reset, a de-authorisation or a
 * restart; Modbus pausing only suspends it.
 */
export class TransactionService {
  readonly #o: TransactionServiceOptions;
  /** ReserveNow / CancelReservation. */
  readonly reservations: ReservationHolder;
  /** The transaction state (`transaction-state.ts`); changed only through `#dispatch`. */
  #state: TxState = INITIAL_TX_STATE;
  readonly #meter: MeterSampler;
  readonly #auth: Authorizer;
  #stopping: Promise<void> | null = null;
  readonly #charging: TransactionCharging;
  readonly #unsubscribe: () => void;

  constructor(options: TransactionServiceOptions) {
    this.#o = options;
    this.#meter = new MeterSampler({ ...options, transaction: () => this.#tx });
    this.#auth = new Authorizer(options);
    this.#charging = new TransactionCharging(options);
    this.reservations = new ReservationHolder({ clock: options.clock, log: options.log, changed: () => options.onChange() });
    this.#unsubscribe = options.charging.onChange((status) => this.#chargingChanged(status));
    options.queue.onConfirmed = (action, localId, response, payload) => this.#confirmed(action, localId, response, payload);
  }

  /** At boot: the transactions a crash or a power loss cut are closed (`transaction-recovery.ts`). */
  recover(reason: RecoveryReason, signedEndRecord: string | null = null): void {
    closeCutTransactions(this.#o, reason, signedEndRecord);
  }

  get transaction(): Transaction | null {
    return this.#tx;
  }

  get finishing(): boolean {
    return isFinishing(this.#state);
  }

  get #tx(): Transaction | null {
    return runningTransaction(this.#state);
  }

  /** One step of the transaction state; its effects start in order. Resolves when they are done. */
  #dispatch(event: TxEvent): Promise<void> {
    const { state, effects } = stepTransaction(this.#state, event);
    this.#state = state;
    return Promise.all(effects.map((effect) => this.#run(effect))).then(() => {});
  }

  #run(effect: TxEffect): Promise<void> {
    switch (effect.type) {
      case 'pluggedIn':
        return this.#pluggedIn();
      case 'start':
        return this.#start(effect.idTag, effect.reservationId, effect.chargingProfile);
      case 'stop':
        return this.stop(effect.reason);
      case 'changed':
        this.#o.onChange();
        return Promise.resolve();
    }
  }

  get reservation(): Reservation | null {
    return this.reservations.current;
  }

  /**
   * Boot is Accepted, or the backend proved unreachable: from now on a plug-in starts a
   * transaction (a car already plugged in counts once).
   */
  ready(): void {
    void this.#dispatch({ type: 'ready' });
  }

  /** A card at the reader: stops our transaction if it is the same tag or of the same group (parentIdTag), else starts one. */
  async cardPresented(idTag: string): Promise<void> {
    const tx = this.#tx;
    if (tx) {
      if (tx.idTag === idTag) await this.stop('Local');
      else if (tx.parentIdTag !== null && (await this.#auth.parentOf(idTag)) === tx.parentIdTag && this.#tx === tx)
        await this.stop('Local', idTag);
      else this.#o.log.info('card ignored: another transaction runs', { idTag });
      return;
    }
    if (!this.#o.available()) {
      this.#o.log.info('card ignored: the connector is Inoperative', { idTag });
      return;
    }
    this.#o.signedMeter?.presented(idTag, 'ISO14443');
    if (!this.reservations.admits(idTag)) {
      this.#o.log.info('card ignored: the connector is reserved for another idTag', { idTag });
      return;
    }
    const info = await this.#auth.authorizeStart(idTag);
    if (info.status !== 'Accepted') {
      this.#o.log.info('card not accepted', { idTag, status: info.status });
      return;
    }
    await this.#startOrWait(idTag);
  }

  /** RemoteStartTransaction: Accepted when a transaction can start; the start follows, with `chargingProfile` as its TxProfile. */
  remoteStart(idTag: string, chargingProfile: ChargingProfile | null = null): 'Accepted' | 'Rejected' {
    if (this.#tx || !this.#o.available() || !this.reservations.admits(idTag)) return 'Rejected';
    this.#o.signedMeter?.presented(idTag, 'CENTRAL');
    void (async () => {
      if (this.#o.configuration.flag('AuthorizeRemoteTxRequests')) {
        const info = await this.#auth.authorizeStart(idTag);
        if (info.status !== 'Accepted') return;
      }
      await this.#startOrWait(idTag, chargingProfile);
    })();
    return 'Accepted';
  }

  remoteStop(transactionId: number): 'Accepted' | 'Rejected' {
    if (!this.#tx || this.#tx.transactionId !== transactionId) return 'Rejected';
    void this.stop('Remote');
    return 'Accepted';
  }

  /**
   * Ends the running transaction with `reason`; the StopTransaction goes through the queue, with
   * the idTag that stopped it and the meter's signed end record when it signs. A stop while the
   * meter ends its transaction waits for that one.
   */
  stop(reason: StopReason, stoppedBy?: string): Promise<void> {
    if (this.#stopping !== null) return this.#stopping;
    const tx = this.#tx;
    if (!tx) return Promise.resolve();
    this.#stopping = this.#stop(tx, reason, stoppedBy).finally(() => (this.#stopping = null));
    return this.#stopping;
  }

  async #stop(tx: Transaction, reason: StopReason, stoppedBy?: string): Promise<void> {
    const signedEnd = this.#o.signedMeter ? await this.#o.signedMeter.end() : null;
    void this.#dispatch({ type: 'stopped' });
    this.#charging.release();
    this.#meter.stopped();
    const end = endReading(this.#o, tx, signedEnd);
    this.#o.log.info('transaction stopped', { localId: tx.localId, reason, meterStop: end.meterStopWh });
    const stop = { ...end, stoppedBy: stoppedBy ?? tx.idTag, reason };
    closeTransaction(this.#o, tx, stop);
    // The StopTransaction is queued before the status that follows from it, and a scheduled
    // availability change applies before that status too.
    this.#o.onChange();
    this.#applyPermission();
    this.#o.onTransaction(null);
    if (this.#state.plugged) void this.#charging.unlockAtEnd(reason, () => this.#tx === null && this.#state.plugged);
  }

  /** Sends a MeterValues now (TriggerMessage). */
  sampleNow(): void {
    this.#meter.sampleNow();
  }

  /** Clock-aligned meter values; call again after ClockAlignedDataInterval changes. */
  scheduleAligned(): void {
    this.#meter.scheduleAligned();
  }

  /** MeterValueSampleInterval changed: a running transaction samples at the new interval from now on. */
  sampleIntervalChanged(): void {
    if (this.#tx !== null) this.#meter.startSampling();
  }

  /** The service is done (the charge point stopped): it no longer follows the charging core. */
  close(): void {
    this.#unsubscribe();
    this.reservations.close();
    this.#meter.close();
  }

  /** The charging core may charge: a transaction runs and is authorised, and the connector is available. */
  #applyPermission(): void {
    const allowed = this.#tx !== null && this.#tx.authorized && this.#o.available();
    this.#o.charging.setOcppAllowed(allowed);
  }

  /** Called when availability changes. */
  availabilityChanged(): void {
    if (!this.#o.available()) this.reservations.end('unavailable');
    this.#applyPermission();
  }

  #chargingChanged(status: ChargingStatus): void {
    // OCPP 1.6 §5.13: a connector that goes Faulted loses its reservation.
    if (status.faults.some((f) => blocksCharging(f.kind))) this.reservations.end('faulted');
    if (status.cp === 'B' || status.cp === 'C' || status.cp === 'D') void this.#dispatch({ type: 'plugged' });
    else if (status.cp === 'A') void this.#dispatch({ type: 'unplugged' });
  }

  async #pluggedIn(): Promise<void> {
    await Promise.resolve(); // let the Preparing status go out first
    if (!mayStart(this.#state)) return;
    const waiting = waitingAt(this.#state, this.#o.clock.now());
    if (waiting) {
      void this.#dispatch({ type: 'waitTaken' });
      await this.#start(waiting.idTag, waiting.reservationId, waiting.chargingProfile);
      return;
    }
    const fixed = this.#o.fixedIdTag;
    if (fixed === '' || !this.#o.available() || !this.reservations.admits(fixed)) return;
    const info = await this.#auth.authorizeStart(fixed);
    if (info.status === 'Accepted') await this.#start(fixed, this.#reservationFor(fixed));
    else this.#o.log.warn('fixed idTag not accepted', { status: info.status });
  }

  /** An authorised idTag: the start follows now if the car is there, else when it comes (ConnectionTimeOut). */
  #startOrWait(idTag: string, chargingProfile: ChargingProfile | null = null): Promise<void> {
    return this.#dispatch({
      type: 'authorized',
      idTag,
      untilMs: this.#o.clock.now() + this.#o.configuration.integer('ConnectionTimeOut') * 1000,
      reservationId: this.#reservationFor(idTag),
      chargingProfile,
    });
  }

  async #start(idTag: string, reservationId: number | null, chargingProfile: ChargingProfile | null = null): Promise<void> {
    // An Inoperative connector starts nothing, whoever asks (OCPP 1.6 §5.2).
    if (!mayStart(this.#state) || !this.#o.available()) return;
    if (this.reservations.current !== null && reservationId === null) {
      this.#o.log.info('not started: the connector is reserved for another idTag', { idTag });
      return;
    }
    void this.#dispatch({ type: 'startBegun', idTag });
    const signedBegin = this.#o.signedMeter ? await this.#o.signedMeter.beginForStart(idTag, () => this.#state.plugged) : null;
    if (signedBegin === 'refused') {
      void this.#dispatch({ type: 'startAborted' });
      return;
    }
    const meterStartWh = Math.round(this.#o.charging.status().meter?.energyWh ?? 0);
    const tx = openTransaction(this.#o, { idTag, parentIdTag: this.#auth.groupOf(idTag), meterStartWh, chargingProfile });
    void this.#dispatch({ type: 'started', tx });
    if (reservationId !== null) this.reservations.end('used');
    this.#o.onIdTag(idTag);
    queueStart(this.#o, tx, reservationId, signedBegin);
    // No energy without a durable record: the StartTransaction is on disk before the
    // transaction permits charging (a few ms), so a crash cannot leave a charge nobody bills.
    // The transaction's profiles are in force before it permits charging too.
    await this.#o.queue.flush();
    if (this.#tx !== tx) return;
    if (!this.#o.queue.durable) await this.#charging.holdUntilOnDisk(tx.localId, () => this.#held());
    if (this.#tx !== tx) return;
    this.#o.onTransaction(tx);
    this.#applyPermission();
    this.#meter.started(tx);
    this.#o.onChange();
  }

  /** Held until its start is on disk: no permission yet, and the status shows why. */
  #held(): void {
    this.#applyPermission();
    this.#o.onChange();
  }

  /** The central system confirmed a queued message (also one from before a restart). */
  #confirmed(_action: TxAction, localId: number, response: TxResponse, payload: Record<string, unknown>): void {
    const info = 'idTagInfo' in response ? response.idTagInfo : undefined;
    if (info) void this.#auth.remember(String(payload['idTag']), info);
    const tx = this.#tx;
    if (!('transactionId' in response) || tx === null || tx.localId !== localId) return;
    tx.transactionId = response.transactionId;
    if (info?.parentIdTag !== undefined) tx.parentIdTag = info.parentIdTag;
    if (info && info.status !== 'Accepted') {
      this.#o.log.warn('StartTransaction: idTag not accepted', { status: info.status });
      if (this.#o.configuration.flag('StopTransactionOnInvalidId')) void this.stop('DeAuthorized');
      else {
        tx.authorized = false;
        this.#applyPermission();
      }
    }
  }

  /** The reservation `idTag` may use, its group as its last authorisation gave it. */
  #reservationFor(idTag: string): number | null {
    return this.reservations.for(idTag, this.#auth.groupOf(idTag));
  }
}

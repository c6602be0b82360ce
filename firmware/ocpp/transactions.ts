import { waitFor } from '../../hal/clock.js';
import type { ChargingStatus } from '../charging/controller.js';
import type { IdTagInfo } from './model/authorization.js';
import { Authorizer } from './authorize.js';
import type { ChargingProfile } from './model/charging-profile.js';
import { meterValue } from './model/meter-sample.js';
import { METER_KEEP_STEP_WH, MeterSampler } from './meter-sampling.js';
import type { TxAction, TxResponse } from './model/tx-queue.js';
import { signedMeterValue } from './signed-meter-values.js';
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
 * The normal ends of a transaction, after which the cable is unlocked (OCPP 1.6 §4.10). Not the
 * restarts (the box comes back to the same car) and not UnlockCommand (the operation unlocks).
 */
const UNLOCK_AT_END: ReadonlySet<StopReason> = new Set(['Local', 'Remote', 'DeAuthorized', 'Other']);
/** How long the end of a transaction waits for the charging core to open the contactor before it asks to unlock (its stop sequence takes up to 3 s). */
const UNLOCK_WAIT_MS = 5000;

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
  /** The last idTag authorised and its parentIdTag, for the transaction it starts. */
  #lastAuthorized: { idTag: string; parentIdTag: string | null } | null = null;
  /** Ends the wait of a transaction held until its start is on disk (it ended first). */
  #releaseHold: (() => void) | null = null;
  readonly #unsubscribe: () => void;

  constructor(options: TransactionServiceOptions) {
    this.#o = options;
    this.#meter = new MeterSampler({ ...options, transaction: () => this.#tx });
    this.#auth = new Authorizer(options);
    this.reservations = new ReservationHolder({ clock: options.clock, log: options.log, changed: () => options.onChange() });
    this.#unsubscribe = options.charging.onChange((status) => this.#chargingChanged(status));
    options.queue.onConfirmed = (action, localId, response, payload) => this.#confirmed(action, localId, response, payload);
  }

  /**
   * At boot: transactions the journal still has open were cut by a crash or a power loss. Each is
   * closed with StopTransaction, its last kept meter reading and time, and `reason` (Reboot when
   * only the process restarted, PowerLoss when the machine did).
   */
  recover(reason: RecoveryReason, signedEndRecord: string | null = null): void {
    const cut = this.#o.queue.openTransactions;
    for (const open of cut) {
      const meterStop = Math.round(open.lastMeter?.wh ?? open.meterStartWh);
      const timestamp = open.lastMeter?.at ?? open.startedAt;
      this.#o.log.warn('transaction cut by a restart: closed', { localId: open.localId, reason, meterStop, timestamp });
      // The meter's transaction ended at this boot: its record goes with the latest one cut.
      const signed =
        signedEndRecord !== null && open === cut[cut.length - 1]
          ? { transactionData: [signedMeterValue(signedEndRecord, 'Transaction.End', this.#o.timestamp())] }
          : {};
      this.#o.queue.push('StopTransaction', open.localId, { idTag: open.idTag, meterStop, timestamp, reason, ...signed });
      this.#o.onEnded?.({
        localId: open.localId,
        transactionId: null,
        idTag: open.idTag,
        startedAt: open.startedAt,
        stoppedAt: timestamp,
        meterStartWh: open.meterStartWh,
        meterStopWh: meterStop,
        reason,
      });
    }
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
      else if (tx.parentIdTag !== null && (await this.#parentOf(idTag)) === tx.parentIdTag && this.#tx === tx)
        await this.stop('Local', idTag);
      else this.#o.log.info('card ignored: another transaction runs', { idTag });
      return;
    }
    if (!this.#o.available()) {
      this.#o.log.info('card ignored: the connector is Inoperative', { idTag });
      return;
    }
    this.#o.signedMeter?.presented(idTag, 'ISO14443');
    if (!this.#mayTry(idTag)) {
      this.#o.log.info('card ignored: the connector is reserved for another idTag', { idTag });
      return;
    }
    const info = await this.#authorize(idTag);
    if (info.status !== 'Accepted') {
      this.#o.log.info('card not accepted', { idTag, status: info.status });
      return;
    }
    await this.#startOrWait(idTag);
  }

  /** RemoteStartTransaction: Accepted when a transaction can start; the start follows, with `chargingProfile` as its TxProfile. */
  remoteStart(idTag: string, chargingProfile: ChargingProfile | null = null): 'Accepted' | 'Rejected' {
    if (this.#tx || !this.#o.available() || !this.#mayTry(idTag)) return 'Rejected';
    this.#o.signedMeter?.presented(idTag, 'CENTRAL');
    void (async () => {
      if (this.#o.configuration.flag('AuthorizeRemoteTxRequests')) {
        const info = await this.#authorize(idTag);
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
    this.#releaseHold?.();
    this.#meter.stopped();
    const status = this.#o.charging.status();
    const meterStop = Math.round(status.meter?.energyWh ?? tx.meterStartWh);
    const measurands = this.#o.configuration.list('StopTxnSampledData');
    const timestamp = this.#o.timestamp();
    const sampled = measurands.length > 0 ? [meterValue(status, measurands, 'Transaction.End', timestamp)] : [];
    const signed = signedEnd !== null ? [signedMeterValue(signedEnd, 'Transaction.End', timestamp)] : [];
    const transactionData = sampled.length + signed.length > 0 ? [...sampled, ...signed] : undefined;
    this.#o.log.info('transaction stopped', { localId: tx.localId, reason, meterStop });
    this.#o.queue.push('StopTransaction', tx.localId, {
      idTag: stoppedBy ?? tx.idTag,
      meterStop,
      timestamp,
      reason,
      ...(transactionData && { transactionData }),
    });
    this.#o.onEnded?.({
      localId: tx.localId,
      transactionId: tx.transactionId,
      idTag: tx.idTag,
      startedAt: tx.startedAt,
      stoppedAt: timestamp,
      meterStartWh: tx.meterStartWh,
      meterStopWh: meterStop,
      reason,
    });
    // The StopTransaction is queued before the status that follows from it, and a scheduled
    // availability change applies before that status too.
    this.#o.onChange();
    this.#applyPermission();
    this.#o.onTransaction(null);
    if (this.#state.plugged && UNLOCK_AT_END.has(reason)) void this.#unlockAtEnd();
  }

  /**
   * OCPP 1.6 §4.10: "as part of the normal transaction termination, the Charge Point SHALL unlock
   * the cable". Through the charging core's unlock path, once its stop sequence has opened the
   * contactor: the lock never releases while the supply is live.
   */
  async #unlockAtEnd(): Promise<void> {
    const { charging, clock, log } = this.#o;
    await waitFor(clock, () => !charging.status().contactorClosed, UNLOCK_WAIT_MS, 50);
    if (this.#tx !== null || !this.#state.plugged) return;
    const result = await charging.unlockConnector();
    if (result === 'UnlockFailed') log.warn('cable not unlocked at the end of the transaction', { result });
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
    if (fixed === '' || !this.#o.available() || !this.#mayTry(fixed)) return;
    const info = await this.#authorize(fixed);
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
    // CONTRACT §9: the meter's transaction is begun before any charge is permitted; a meter
    // that does not sign it permits none (the status API and the log say why).
    const signedBegin = this.#o.signedMeter ? await this.#o.signedMeter.begin(idTag) : null;
    if (this.#o.signedMeter && signedBegin === null) {
      void this.#dispatch({ type: 'startAborted' });
      this.#o.log.error('transaction not started: the signing meter did not begin its transaction', { idTag });
      return;
    }
    if (signedBegin !== null && !this.#state.plugged) {
      // The car left while the meter began: no transaction; the meter's is ended unused.
      this.#o.log.warn('car unplugged while the signing meter began its transaction: not started', { idTag });
      await this.#o.signedMeter?.end();
      void this.#dispatch({ type: 'startAborted' });
      return;
    }
    const status = this.#o.charging.status();
    const meterStartWh = Math.round(status.meter?.energyWh ?? 0);
    const startedAt = this.#o.timestamp();
    const tx: Transaction = {
      localId: this.#o.queue.openTransaction({ idTag, meterStartWh, startedAt }),
      transactionId: null,
      idTag,
      meterStartWh,
      startedAt,
      authorized: true,
      parentIdTag: this.#lastAuthorized?.idTag === idTag ? this.#lastAuthorized.parentIdTag : null,
      chargingProfile,
    };
    void this.#dispatch({ type: 'started', tx });
    if (reservationId !== null) this.reservations.end('used');
    this.#o.onIdTag(idTag);
    this.#o.log.info('transaction started', { localId: tx.localId, idTag });
    this.#o.queue.push('StartTransaction', tx.localId, {
      connectorId: this.#o.connectorId,
      idTag,
      meterStart: meterStartWh,
      timestamp: startedAt,
      ...(reservationId !== null && { reservationId }),
    });
    // The begin record follows right after StartTransaction.conf: 1.6's StartTransaction cannot carry it.
    if (signedBegin !== null)
      this.#o.queue.push('MeterValues', tx.localId, {
        connectorId: this.#o.connectorId,
        meterValue: [signedMeterValue(signedBegin, 'Transaction.Begin', startedAt)],
      });
    // No energy without a durable record: the StartTransaction is on disk before the
    // transaction permits charging (a few ms), so a crash cannot leave a charge nobody bills.
    // The transaction's profiles are in force before it permits charging too.
    await this.#o.queue.flush();
    if (this.#tx !== tx) return;
    if (!this.#o.queue.durable) await this.#holdUntilOnDisk(tx);
    if (this.#tx !== tx) return;
    this.#o.onTransaction(tx);
    this.#applyPermission();
    this.#meter.started(tx);
    this.#o.onChange();
  }

  /**
   * dataDir cannot be written: the transaction is authorised and runs, but the PWM stays off
   * (SuspendedEVSE, pausedBy storage) until the journal has its start on disk, or it ends.
   */
  async #holdUntilOnDisk(tx: Transaction): Promise<void> {
    this.#o.log.error('transaction start not on disk: charging held until it is', { localId: tx.localId });
    this.#o.charging.setStoragePaused(true);
    this.#applyPermission();
    this.#o.onChange();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        unsubscribe();
        this.#releaseHold = null;
        resolve();
      };
      const unsubscribe = this.#o.queue.onDurable(done);
      this.#releaseHold = done;
    });
    this.#o.charging.setStoragePaused(false);
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

  /** Authorisation, remembering the group (parentIdTag) of an accepted idTag for the transaction it starts. */
  async #authorize(idTag: string): Promise<IdTagInfo> {
    const info = await this.#auth.authorize(idTag);
    if (info.status === 'Accepted') this.#lastAuthorized = { idTag, parentIdTag: info.parentIdTag ?? null };
    return info;
  }

  /**
   * The group of a card presented during another card's transaction (OCPP 1.6 §5.x): from the
   * local list or cache when it is known there, else by Authorize; null when not accepted.
   */
  async #parentOf(idTag: string): Promise<string | null> {
    const local = this.#auth.local(idTag);
    const info = local?.status === 'Accepted' ? local : await this.#auth.authorize(idTag);
    return info.status === 'Accepted' ? (info.parentIdTag ?? null) : null;
  }

  /** The reservation `idTag` may use, its group as its last authorisation gave it. */
  #reservationFor(idTag: string): number | null {
    return this.reservations.for(idTag, this.#lastAuthorized?.idTag === idTag ? this.#lastAuthorized.parentIdTag : null);
  }

  /** Whether `idTag` is worth authorising: no reservation, its own, or one of a group it may belong to. */
  #mayTry(idTag: string): boolean {
    const reservation = this.reservations.current;
    return reservation === null || reservation.idTag === idTag || reservation.parentIdTag !== null;
  }
}

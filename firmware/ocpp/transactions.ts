import type { ChargingStatus } from '../charging/controller.js';
import { Authorizer } from './authorize.js';
import type { ChargingProfile } from './model/charging-profile.js';
import { METER_KEEP_STEP_WH, MeterSampler } from './meter-sampling.js';
import { closeCutTransactions, openTransaction, queueStart, recordStop } from './transaction-records.js';
import { TransactionCharging } from './transaction-charging.js';
import { TransactionAuthorization } from './transaction-authorization.js';
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
 * CONTRACT §5 transactions: the connector's transaction state (`transaction-state.ts`) and its
 * effects, the start (the signing meter, the journal, the hold until it is on disk), the stop,
 * and the permission it gives the charging core. Who may start and stop one is
 * `transaction-authorization.ts`'s; what goes into the journal, `transaction-records.ts`'s. A
 * transaction runs from the authorised start until unplug, RemoteStop, a stop by card, a reset, a
 * de-authorisation or a restart; Modbus pausing only suspends it.
 */
export class TransactionService {
  readonly #o: TransactionServiceOptions;
  /** ReserveNow / CancelReservation. */
  readonly reservations: ReservationHolder;
  /** The transaction state (`transaction-state.ts`); changed only through `#dispatch`. */
  #state: TxState = INITIAL_TX_STATE;
  /** MeterValues: periodic, clock-aligned and triggered samples, and the reading kept in the journal. */
  readonly meter: MeterSampler;
  readonly #auth: Authorizer;
  readonly #rules: TransactionAuthorization;
  #stopping: Promise<void> | null = null;
  /** The start under way, until its transaction runs (or the start is given up). */
  #beginning: Promise<Transaction | null> | null = null;
  /** The charge point stops: no transaction starts any more. */
  #closing = false;
  readonly #charging: TransactionCharging;
  readonly #unsubscribe: () => void;

  constructor(options: TransactionServiceOptions) {
    this.#o = options;
    this.meter = new MeterSampler({ ...options, transaction: () => this.#tx });
    this.#auth = new Authorizer(options);
    this.#charging = new TransactionCharging(options);
    this.reservations = new ReservationHolder({ clock: options.clock, log: options.log, changed: () => options.onChange() });
    this.#rules = new TransactionAuthorization({
      ...options,
      auth: this.#auth,
      reservations: this.reservations,
      control: {
        transaction: () => this.#tx,
        stop: (reason, stoppedBy) => this.stop(reason, stoppedBy),
        startOrWait: (idTag, chargingProfile) => this.#startOrWait(idTag, chargingProfile),
        deauthorized: () => this.#applyPermission(),
      },
    });
    this.#unsubscribe = options.charging.onChange((status) => this.#chargingChanged(status));
    // The charging core reports changes only: a car plugged in before this service began (new OCPP
    // settings at run time, a restarted protocol side) is taken from its status now, or no
    // transaction would start for it until something else changed.
    this.#chargingChanged(options.charging.status());
    options.queue.onConfirmed = (_action, localId, response, payload) => this.#rules.confirmed(localId, response, String(payload['idTag']));
  }

  /** At boot: the transactions a crash or a power loss cut are closed (`transaction-records.ts`). */
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

  /** A Reset: its transaction was stopped, and the OCPP side boots anew; a car still plugged in counts again once Boot is Accepted. */
  rebooted(): void {
    void this.#dispatch({ type: 'rebooted' });
  }

  /** A card at the reader: stops our transaction if it is the same tag or of the same group (parentIdTag), else starts one. */
  cardPresented(idTag: string): Promise<void> {
    return this.#rules.cardPresented(idTag);
  }

  /** RemoteStartTransaction: Accepted when a transaction can start; the start follows, with `chargingProfile` as its TxProfile. */
  remoteStart(idTag: string, chargingProfile: ChargingProfile | null = null): 'Accepted' | 'Rejected' {
    return this.#rules.remoteStart(idTag, chargingProfile);
  }

  remoteStop(transactionId: number): 'Accepted' | 'Rejected' {
    return this.#rules.remoteStop(transactionId);
  }

  /**
   * Ends the running transaction with `reason`; the StopTransaction goes through the queue, with
   * the idTag that stopped it and the meter's signed end record when it signs. A stop while the
   * meter ends its transaction waits for that one.
   */
  stop(reason: StopReason, stoppedBy?: string): Promise<void> {
    if (this.#stopping !== null) return this.#stopping;
    // A start under way (the signing meter begins; bounded by its timeout) is let run and then stopped.
    const again = (): Promise<void> => this.stop(reason, stoppedBy);
    if (this.#beginning !== null) return this.#beginning.then(again, again);
    const tx = this.#tx;
    if (!tx) return Promise.resolve();
    this.#stopping = this.#stop(tx, reason, stoppedBy).finally(() => (this.#stopping = null));
    return this.#stopping;
  }

  async #stop(tx: Transaction, reason: StopReason, stoppedBy?: string): Promise<void> {
    const signedEnd = this.#o.signedMeter ? await this.#o.signedMeter.end() : null;
    void this.#dispatch({ type: 'stopped' });
    this.#charging.release();
    this.meter.stopped();
    recordStop(this.#o, tx, { reason, stoppedBy: stoppedBy ?? tx.idTag, signedEnd });
    // The StopTransaction is queued before the status that follows from it, and a scheduled
    // availability change applies before that status too.
    this.#o.onChange();
    this.#applyPermission();
    this.#o.onTransaction(null);
    if (this.#state.plugged) void this.#charging.unlockAtEnd(reason, () => this.#tx === null && this.#state.plugged);
  }

  /**
   * The charge point stops (new settings, a restart): from now on no transaction starts, and the
   * running one, or the one whose start is under way, ends with `reason`.
   */
  shutDown(reason: StopReason): Promise<void> {
    this.#closing = true;
    return this.stop(reason);
  }

  /** The service is done (the charge point stopped): it no longer follows the charging core. */
  close(): void {
    this.#unsubscribe();
    this.reservations.close();
    this.meter.close();
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
    const fixed = await this.#rules.fixedAtPlugIn();
    if (fixed !== null) await this.#start(fixed.idTag, fixed.reservationId);
  }

  /** An authorised idTag: the start follows now if the car is there, else when it comes (ConnectionTimeOut). */
  #startOrWait(idTag: string, chargingProfile: ChargingProfile | null = null): Promise<void> {
    return this.#dispatch({
      type: 'authorized',
      idTag,
      untilMs: this.#o.clock.now() + this.#o.configuration.integer('ConnectionTimeOut') * 1000,
      reservationId: this.#rules.reservationFor(idTag),
      chargingProfile,
    });
  }

  async #start(idTag: string, reservationId: number | null, chargingProfile: ChargingProfile | null = null): Promise<void> {
    // An Inoperative connector starts nothing, whoever asks (OCPP 1.6 §5.2).
    if (this.#closing || !mayStart(this.#state) || !this.#o.available()) return;
    if (this.reservations.current !== null && reservationId === null) {
      this.#o.log.info('not started: the connector is reserved for another idTag', { idTag });
      return;
    }
    const beginning = this.#begin(idTag, reservationId, chargingProfile);
    this.#beginning = beginning;
    const tx = await beginning.finally(() => (this.#beginning = null));
    if (tx === null || !this.#goesOn(tx)) return;
    // No energy without a durable record: the StartTransaction is on disk before the
    // transaction permits charging (a few ms), so a crash cannot leave a charge nobody bills.
    // The transaction's profiles are in force before it permits charging too.
    await this.#o.queue.flush();
    if (!this.#goesOn(tx)) return;
    if (!this.#o.queue.durable) await this.#charging.holdUntilOnDisk(tx.localId, () => this.#held());
    if (!this.#goesOn(tx)) return;
    this.#o.onTransaction(tx);
    this.#applyPermission();
    this.meter.started(tx);
    this.#o.onChange();
  }

  /**
   * `tx` still runs and no stop of it is under way: a stop waiting for the signing meter's end
   * record must not see its transaction given the permission to charge meanwhile.
   */
  #goesOn(tx: Transaction): boolean {
    return this.#tx === tx && this.#stopping === null;
  }

  /** From the start's first step to its transaction in the journal and the StartTransaction queued; null: the signing meter refused. */
  async #begin(idTag: string, reservationId: number | null, chargingProfile: ChargingProfile | null): Promise<Transaction | null> {
    void this.#dispatch({ type: 'startBegun', idTag });
    const signedBegin = this.#o.signedMeter ? await this.#o.signedMeter.beginForStart(idTag, () => this.#state.plugged) : null;
    if (signedBegin === 'refused') {
      void this.#dispatch({ type: 'startAborted' });
      return null;
    }
    const meterStartWh = Math.round(this.#o.charging.status().meter?.energyWh ?? 0);
    const tx = openTransaction(this.#o, { idTag, parentIdTag: this.#auth.groupOf(idTag), meterStartWh, chargingProfile });
    void this.#dispatch({ type: 'started', tx });
    if (reservationId !== null) this.reservations.end('used');
    this.#o.onIdTag(idTag);
    queueStart(this.#o, tx, reservationId, signedBegin);
    return tx;
  }

  /** Held until its start is on disk: no permission yet, and the status shows why. */
  #held(): void {
    this.#applyPermission();
    this.#o.onChange();
  }
}

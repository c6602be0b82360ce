import type { Logger } from '../log.js';
import type { Authorizer } from './authorize.js';
import type { ChargingProfile } from './model/charging-profile.js';
import type { OcppConfiguration } from './model/configuration.js';
import type { TxResponse } from './model/tx-queue.js';
import type { ReservationHolder } from './reservation.js';
import type { SignedMeterValues } from './signed-meter-values.js';
import type { StopReason, Transaction } from './transaction-types.js';

/** What the rules ask of the transaction they admit or end. */
export interface TransactionControl {
  /** The running transaction, if any. */
  transaction(): Transaction | null;
  stop(reason: StopReason, stoppedBy?: string): Promise<void>;
  /** An authorised idTag: the start follows now if the car is there, else when it comes. */
  startOrWait(idTag: string, chargingProfile: ChargingProfile | null): Promise<void>;
  /** The running transaction lost its authorisation but goes on (it may not charge). */
  deauthorized(): void;
}

export interface TransactionAuthorizationDeps {
  readonly auth: Authorizer;
  readonly reservations: ReservationHolder;
  readonly control: TransactionControl;
  readonly configuration: Pick<OcppConfiguration, 'flag'>;
  readonly log: Logger;
  /** `ocpp.fixedIdTag`; "" = wait for a card or RemoteStart. */
  readonly fixedIdTag: string;
  /** The connector may start a transaction (not Inoperative, no fault). */
  readonly available: () => boolean;
  readonly signedMeter?: SignedMeterValues | null;
}

/**
 * Who may start and stop a transaction (CONTRACT §5, OCPP 1.6 §3.5, §5.13): a card (the same
 * card or one of its group stops it), RemoteStartTransaction / RemoteStopTransaction, the fixed
 * idTag at plug-in, each within the reservation in force; and the central system's verdict on the
 * idTag in StartTransaction.conf (StopTransactionOnInvalidId).
 */
export class TransactionAuthorization {
  readonly #o: TransactionAuthorizationDeps;

  constructor(deps: TransactionAuthorizationDeps) {
    this.#o = deps;
  }

  /** A card at the reader: stops our transaction if it is the same tag or of the same group (parentIdTag), else starts one. */
  async cardPresented(idTag: string): Promise<void> {
    const { control, log } = this.#o;
    const tx = control.transaction();
    if (tx) {
      if (tx.idTag === idTag) await control.stop('Local');
      else if (tx.parentIdTag !== null && (await this.#o.auth.parentOf(idTag)) === tx.parentIdTag && control.transaction() === tx)
        await control.stop('Local', idTag);
      else log.info('card ignored: another transaction runs', { idTag });
      return;
    }
    if (!this.#o.available()) {
      log.info('card ignored: the connector is Inoperative', { idTag });
      return;
    }
    this.#o.signedMeter?.presented(idTag, 'ISO14443');
    if (!this.#o.reservations.admits(idTag)) {
      log.info('card ignored: the connector is reserved for another idTag', { idTag });
      return;
    }
    const info = await this.#o.auth.authorizeStart(idTag);
    if (info.status !== 'Accepted') {
      log.info('card not accepted', { idTag, status: info.status });
      return;
    }
    await control.startOrWait(idTag, null);
  }

  /** RemoteStartTransaction: Accepted when a transaction can start; the start follows, with `chargingProfile` as its TxProfile. */
  remoteStart(idTag: string, chargingProfile: ChargingProfile | null): 'Accepted' | 'Rejected' {
    const { control } = this.#o;
    if (control.transaction() || !this.#o.available() || !this.#o.reservations.admits(idTag)) return 'Rejected';
    this.#o.signedMeter?.presented(idTag, 'CENTRAL');
    void (async () => {
      if (this.#o.configuration.flag('AuthorizeRemoteTxRequests')) {
        const info = await this.#o.auth.authorizeStart(idTag);
        if (info.status !== 'Accepted') return;
      }
      await control.startOrWait(idTag, chargingProfile);
    })();
    return 'Accepted';
  }

  remoteStop(transactionId: number): 'Accepted' | 'Rejected' {
    const tx = this.#o.control.transaction();
    if (!tx || tx.transactionId !== transactionId) return 'Rejected';
    void this.#o.control.stop('Remote');
    return 'Accepted';
  }

  /** A car came and no authorised idTag waits for it: the fixed idTag, if any, when it is accepted; null: no start. */
  async fixedAtPlugIn(): Promise<{ readonly idTag: string; readonly reservationId: number | null } | null> {
    const fixed = this.#o.fixedIdTag;
    if (fixed === '' || !this.#o.available() || !this.#o.reservations.admits(fixed)) return null;
    const info = await this.#o.auth.authorizeStart(fixed);
    if (info.status === 'Accepted') return { idTag: fixed, reservationId: this.reservationFor(fixed) };
    this.#o.log.warn('fixed idTag not accepted', { status: info.status });
    return null;
  }

  /** The reservation `idTag` may use, its group as its last authorisation gave it. */
  reservationFor(idTag: string): number | null {
    return this.#o.reservations.for(idTag, this.#o.auth.groupOf(idTag));
  }

  /**
   * The central system confirmed a transaction message (also one from before a restart): its
   * idTagInfo goes into the cache; StartTransaction.conf gives the running transaction its
   * transactionId and group, and a verdict other than Accepted ends it (StopTransactionOnInvalidId)
   * or takes its permission to charge.
   */
  confirmed(localId: number, response: TxResponse, idTag: string): void {
    const info = 'idTagInfo' in response ? response.idTagInfo : undefined;
    if (info) void this.#o.auth.remember(idTag, info);
    const tx = this.#o.control.transaction();
    if (!('transactionId' in response) || tx === null || tx.localId !== localId) return;
    tx.transactionId = response.transactionId;
    if (info?.parentIdTag !== undefined) tx.parentIdTag = info.parentIdTag;
    if (info && info.status !== 'Accepted') {
      this.#o.log.warn('StartTransaction: idTag not accepted', { status: info.status });
      if (this.#o.configuration.flag('StopTransactionOnInvalidId')) void this.#o.control.stop('DeAuthorized');
      else {
        tx.authorized = false;
        this.#o.control.deauthorized();
      }
    }
  }
}

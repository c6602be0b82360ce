import type { Logger } from '../log.js';
import type { ChargingPort } from '../charging/port.js';
import type { AvailabilityControl } from './availability.js';
import { connectorStatus, withStorageProblem, type ConnectorView, type StorageProblem } from './model/connector-status.js';
import type { ProfileStore } from './model/profile-store.js';
import type { TxQueue } from './model/tx-queue.js';
import type { StatusReporter } from './services.js';
import { storageProblems } from './storage-problems.js';
import type { TransactionService } from './transactions.js';
import type { OcppRpc } from './rpc.js';
import * as StatusNotification from './operations/StatusNotification.js';

export interface StatusNotifierOptions {
  readonly rpc: OcppRpc;
  readonly log: Logger;
  /** OCPP time now, ISO 8601. */
  readonly timestamp: () => string;
  /** The transaction messages still queued, and a way to send them first. */
  readonly queue: { readonly length: number; drain(): Promise<void> };
}

/**
 * StatusNotification: sent when a connector's status, error code or info changed, after the
 * transaction messages queued before it, statuses in their own order.
 */
export class StatusNotifier {
  readonly #o: StatusNotifierOptions;
  readonly #sent = new Map<number, string>();
  #chain: Promise<void> = Promise.resolve();
  #waiting = 0;

  constructor(options: StatusNotifierOptions) {
    this.#o = options;
  }

  /** Everything is sent again at the next report (a new session, a trigger). */
  forget(connectorId?: number): void {
    if (connectorId === undefined) this.#sent.clear();
    else this.#sent.delete(connectorId);
  }

  /** Sends the status of `connectorId` if its content changed since last sent. */
  report(connectorId: number, view: ConnectorView): void {
    const key = `${view.status}/${view.errorCode}/${view.info ?? ''}`;
    if (this.#sent.get(connectorId) === key) return;
    this.#sent.set(connectorId, key);
    const timestamp = this.#o.timestamp();
    const send = (): Promise<void> =>
      StatusNotification.send(this.#o, connectorId, view, timestamp).then(
        () => {},
        (err: unknown) => {
          this.#sent.delete(connectorId);
          this.#o.log.warn('StatusNotification failed', { reason: (err as Error).message });
        },
      );
    const { queue } = this.#o;
    if (this.#waiting === 0 && queue.length === 0) {
      void send();
      return;
    }
    // A status follows the transaction messages queued before it (Available after the
    // StopTransaction still waiting behind a MeterValues answer); statuses keep their own order.
    this.#waiting += 1;
    this.#chain = this.#chain
      .then(() => (queue.length > 0 ? queue.drain() : undefined))
      .then(send)
      .finally(() => (this.#waiting -= 1));
  }
}

export interface ConnectorReporterOptions {
  readonly notifier: StatusNotifier;
  readonly connectorId: number;
  readonly charging: ChargingPort;
  readonly transactions: Pick<TransactionService, 'transaction' | 'finishing' | 'reservation'>;
  readonly availability: Pick<AvailabilityControl, 'available' | 'lost'>;
  readonly profiles: Pick<ProfileStore, 'lost'>;
  readonly queue: Pick<TxQueue, 'durable' | 'journalDamage'>;
  /** Boot Accepted and the link up. */
  readonly online: () => boolean;
}

/** The status of connector 0 and of the connector (CONTRACT §5), with the storage problem that overrides it. */
export class ConnectorReporter implements StatusReporter {
  readonly #o: ConnectorReporterOptions;

  constructor(options: ConnectorReporterOptions) {
    this.#o = options;
  }

  /** Sends the StatusNotifications whose content changed (after Boot is Accepted). */
  report(): void {
    if (!this.#o.online()) return;
    const status = this.#o.availability.available ? 'Available' : 'Unavailable';
    this.#o.notifier.report(0, withStorageProblem(this.#storageInfo(), { status, errorCode: 'NoError' }));
    this.#o.notifier.report(this.#o.connectorId, this.connectorView());
  }

  connectorView(): ConnectorView {
    const { transactions } = this.#o;
    return withStorageProblem(
      this.#storageInfo(),
      connectorStatus({
        charging: this.#o.charging.status(),
        transactionRunning: transactions.transaction !== null,
        finishing: transactions.finishing,
        inoperative: !this.#o.availability.available,
        reserved: transactions.reservation !== null,
      }),
    );
  }

  resendStatus(connectorId: number | undefined): void {
    if (connectorId === undefined || connectorId === 0) this.#o.notifier.forget(0);
    if (connectorId === undefined || connectorId === this.#o.connectorId) this.#o.notifier.forget(this.#o.connectorId);
    this.report();
  }

  /** Damaged state files and a journal that cannot be written, with the safe side taken. */
  storageProblems(): StorageProblem[] {
    return storageProblems({
      availabilityLost: this.#o.availability.lost,
      profilesLost: this.#o.profiles.lost,
      journalDurable: this.#o.queue.durable,
      journalDamage: this.#o.queue.journalDamage,
    });
  }

  #storageInfo(): string | null {
    return this.storageProblems()[0]?.info ?? null;
  }
}

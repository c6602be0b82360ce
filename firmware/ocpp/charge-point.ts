import type { ChargingPort } from '../charging/port.js';
import type { Logger } from '../log.js';
import type { ChargePointOptions } from './charge-point-options.js';
import { webSocketConnector } from './connector.js';
import type { AuthorizationStore } from './model/authorization.js';
import type { OcppConfiguration } from './model/configuration.js';
import type { CertificateStore } from './model/certificate-store.js';
import type { Availability } from './model/availability-store.js';
import type { ConnectorView, StorageProblem } from './model/connector-status.js';
import { AvailabilityControl } from './availability.js';
import { OcppTime } from './ocpp-clock.js';
import { OcppSession, type BootState, type ChargePointIdentity } from './session.js';
import { ConnectorReporter, StatusNotifier } from './status-notifier.js';
import { TxQueue } from './model/tx-queue.js';
import { registerOperations } from './operations/index.js';
import type { LinkSecurity } from './link-security.js';
import { OcppRpc } from './rpc.js';
import { Notifications } from './notifications.js';
import type { OcppServices, OcppSettings } from './services.js';
import { SecurityEvents } from './security-events.js';
import { SignedMeterValues, type SignedMeterStatus } from './signed-meter-values.js';
import { OfflineLimit } from './offline-limit.js';
import { SmartCharging } from './smart-charging.js';
import type { DiagnosticsUploader } from '../diagnostics/uploader.js';
import type { FirmwareUpdater } from '../update/updater.js';
import { TransactionService } from './transactions.js';

export type { OcppSettings };
export type { ChargePointOptions };

export type { Availability, BootState, ChargePointIdentity };

/**
 * The OCPP 1.6J charge point: the link, BootNotification (nothing else until Accepted),
 * Heartbeat, StatusNotification of connector 0 and the connector, the clock from the central
 * system, and the operations of `operations/` over the models of `model/`.
 */
/**
 * The OCPP 1.6J charge point: the composition root of the layer. It builds the services in the
 * order they depend on each other (the clock, the RPC, the journal, the session over the link,
 * transactions, smart charging, the status notifier) and registers the operations of
 * `operations/`, each of which uses only the few services it declares.
 */
export class ChargePoint implements OcppServices {
  readonly rpc: OcppRpc;
  readonly transactions: TransactionService;
  readonly smartCharging: SmartCharging;
  readonly configuration: OcppConfiguration;
  readonly authorization: AuthorizationStore;
  readonly certificates: CertificateStore;
  readonly link: LinkSecurity;
  readonly securityEvents: SecurityEvents;
  readonly charging: ChargingPort;
  readonly settings: OcppSettings;
  readonly log: Logger;
  readonly firmwareUpdates: FirmwareUpdater | null;
  readonly diagnostics: DiagnosticsUploader | null;
  readonly #o: ChargePointOptions;
  readonly time: OcppTime;
  readonly session: OcppSession;
  readonly availability: AvailabilityControl;
  readonly status: ConnectorReporter;
  readonly notifier: Notifications;
  readonly #statuses: StatusNotifier;
  readonly #queue: TxQueue;
  readonly #signedMeter: SignedMeterValues | null;
  /** Null without `ocpp.offlineLimitA`. */
  readonly #offlineLimit: OfflineLimit | null;
  readonly #unsubscribeCharging: () => void;

  constructor(options: ChargePointOptions) {
    const { clock, configuration, settings } = options;
    this.#o = options;
    this.settings = settings;
    this.configuration = configuration;
    this.authorization = options.authorization;
    this.certificates = options.certificates;
    this.link = options.link;
    this.charging = options.charging;
    this.firmwareUpdates = options.firmwareUpdates ?? null;
    this.diagnostics = options.diagnostics ?? null;
    const log = (this.log = options.log.child({ module: 'ocpp' }));
    this.time = new OcppTime({ clock, log, ...(options.hostClockSynced !== undefined && { hostClockSynced: options.hostClockSynced }) });
    this.rpc = new OcppRpc({
      clock,
      log: options.log,
      serving: () => this.session.state !== 'Rejected',
      ...(options.callTimeoutMs !== undefined && { callTimeoutMs: options.callTimeoutMs }),
    });
    this.#queue = new TxQueue(
      {
        rpc: this.rpc,
        clock,
        log,
        attempts: () => configuration.integer('TransactionMessageAttempts'),
        retryIntervalS: () => configuration.integer('TransactionMessageRetryInterval'),
        canSend: () => this.online,
      },
      options.queue,
    );
    const signingMeter = options.signingMeter ?? null;
    this.#signedMeter = signingMeter && new SignedMeterValues({ meter: signingMeter, clock, log, fixedIdTag: settings.fixedIdTag });
    this.notifier = new Notifications({ rpc: this.rpc, log, online: () => this.online });
    this.securityEvents = new SecurityEvents({
      rpc: this.rpc,
      log,
      timestamp: () => this.time.timestamp(),
      canSend: () => this.online,
    });
    const { offlineLimitA = null, offlineAfterS = 300 } = settings;
    this.#offlineLimit =
      offlineLimitA === null
        ? null
        : new OfflineLimit({ limitA: offlineLimitA, afterS: offlineAfterS, clock, log, onChange: () => this.smartCharging.apply() });
    this.availability = new AvailabilityControl({
      log,
      transactionRunning: () => this.transactions.transaction !== null,
      onChange: () => {
        this.transactions.availabilityChanged();
        this.status.report();
      },
    });
    this.#statuses = new StatusNotifier({ rpc: this.rpc, log, timestamp: () => this.time.timestamp(), queue: this.#queue });
    this.transactions = new TransactionService({
      signedMeter: this.#signedMeter,
      rpc: this.rpc,
      queue: this.#queue,
      charging: options.charging,
      configuration,
      authorization: options.authorization,
      clock,
      log,
      connectorId: settings.connectorId,
      fixedIdTag: settings.fixedIdTag,
      timestamp: () => this.time.timestamp(),
      online: () => this.online,
      available: () => this.available,
      onChange: () => {
        if (this.transactions.transaction === null) this.availability.applyScheduled();
        this.status.report();
      },
      onTransaction: (tx) => this.smartCharging.transactionChanged(tx),
      onIdTag: options.onIdTag,
      ...(options.onTransactionEnded !== undefined && { onEnded: options.onTransactionEnded }),
    });
    this.smartCharging = new SmartCharging({
      store: options.profiles,
      charging: options.charging,
      configuration,
      clock,
      log,
      connectorId: settings.connectorId,
      voltageV: options.evse.voltageV,
      maxCurrentA: options.evse.maxCurrentA,
      nowMs: () => this.time.nowMs(),
      transaction: () => this.transactions.transaction,
      offlineLimitA: () => this.#offlineLimit?.limitA ?? null,
    });
    this.status = new ConnectorReporter({
      notifier: this.#statuses,
      connectorId: settings.connectorId,
      charging: options.charging,
      transactions: this.transactions,
      availability: this.availability,
      profiles: options.profiles,
      queue: this.#queue,
      online: () => this.online,
    });
    this.time.onSet((movedMs) => {
      // Stamped with the time just set: the one the central system goes by.
      if (OcppTime.isEvent(movedMs))
        this.securityEvents.report('SettingSystemTime', `clock set from the central system by ${Math.round(movedMs)} ms`);
      // Profile boundaries are in the central system's time.
      this.smartCharging.apply();
    });
    this.session = new OcppSession({
      rpc: this.rpc,
      clock,
      log,
      configuration,
      identity: options.identity,
      time: this.time,
      offlineLimit: this.#offlineLimit,
      meterIdentity: async () => (await this.#signedMeter?.identity()) ?? null,
      connect:
        options.connector ?? webSocketConnector({ settings, link: options.link, rpc: this.rpc, clock, log: options.log, configuration }),
      beforeBoot: () => this.link.linkOpened(),
      onUnreachable: (failure, failedTarget) => {
        if (failure !== null && failedTarget !== null) options.link.linkFailed(failure, failedTarget);
        // The backend is unreachable: the offline rules let a plug-in start a transaction.
        this.transactions.ready();
        if (failure === null) this.#statuses.forget();
      },
      onAccepted: (firstTime) => {
        if (firstTime) {
          this.#statuses.forget();
          this.transactions.ready();
        }
        this.status.report();
        this.#sendPending();
      },
    });
    options.link.attach(this.session.link, this.securityEvents, configuration, () => this.time.knownTimeMs());
    options.rfid.onCard = (idTag) => void this.transactions.cardPresented(idTag);
    const unsubscribeCharging = options.charging.onChange(() => this.status.report());
    const unsubscribeDurable = this.#queue.onDurable(() => this.status.report());
    this.#unsubscribeCharging = () => {
      unsubscribeCharging();
      unsubscribeDurable();
    };
    configuration.onChange((key) => {
      if (key === 'HeartbeatInterval') this.session.scheduleHeartbeat();
      if (key === 'ClockAlignedDataInterval') this.transactions.scheduleAligned();
      if (key === 'MeterValueSampleInterval') this.transactions.sampleIntervalChanged();
      if (key === 'WebSocketPingInterval') this.session.link.pingIntervalChanged();
    });
    registerOperations(this);
  }

  get online(): boolean {
    return this.session.online;
  }

  /** `ocpp.offlineLimitA` applies now: the central system has been unreachable for `ocpp.offlineAfterS`. */
  get offlineLimitActive(): boolean {
    return (this.#offlineLimit?.limitA ?? null) !== null;
  }

  get available(): boolean {
    return this.availability.available;
  }

  get bootState(): BootState {
    return this.session.state;
  }

  /** Transaction messages waiting for the central system, and those given up on since this start. */
  get queueState(): { readonly queued: number; readonly deadLetters: number } {
    return { queued: this.#queue.length, deadLetters: this.#queue.deadLetterCount };
  }

  /** The signing meter as the status API shows it (CONTRACT §9); null when the meter does not sign. */
  get signedMeter(): SignedMeterStatus | null {
    return this.#signedMeter?.status ?? null;
  }

  async start(): Promise<void> {
    await this.availability.load(this.#o.dataDir);
    await this.#signedMeter?.identity();
    const signedEndRecord = (await this.#signedMeter?.recover(this.#queue.openTransactions.length > 0)) ?? null;
    this.transactions.recover(this.#o.recoveryReason, signedEndRecord);
    this.transactions.availabilityChanged();
    this.transactions.scheduleAligned();
    this.smartCharging.apply();
    this.securityEvents.report('StartupOfTheDevice', `firmware ${this.#o.identity.firmwareVersion}`);
    // Unreachable until the first accepted BootNotification says otherwise.
    this.#offlineLimit?.unreachable();
    this.session.link.start();
  }

  /** Clean stop: a running transaction ends with reason Reboot (sent if the link is up). */
  async stop(): Promise<void> {
    await this.transactions.stop('Reboot');
    await this.#queue.drain();
    this.session.stop();
    this.#offlineLimit?.stop();
    this.#unsubscribeCharging();
    this.transactions.close();
    this.smartCharging.stop();
    await this.session.link.stop();
    await this.#queue.close();
  }

  connectorView(): ConnectorView {
    return this.status.connectorView();
  }

  storageProblems(): StorageProblem[] {
    return this.status.storageProblems();
  }

  async reset(type: 'Soft' | 'Hard'): Promise<void> {
    await this.transactions.stop(type === 'Soft' ? 'SoftReset' : 'HardReset');
    await this.#queue.drain();
    this.log.warn('reset', { type });
    this.securityEvents.report('ResetOrReboot', `${type} reset by the central system`);
    this.session.restart();
    this.session.link.reconnect(`${type} reset`);
  }

  /** The central system can be told again: what waited goes out (notifications, transaction messages, security events). */
  #sendPending(): void {
    this.notifier.sendWaiting();
    void this.#queue.drain();
    void this.securityEvents.flush();
  }
}

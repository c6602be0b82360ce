import type { ChargingPort } from '../charging/port.js';
import type { Logger } from '../log.js';
import type { ChargePointOptions } from './charge-point-options.js';
import { webSocketConnector } from './connector.js';
import type { AuthorizationStore } from './model/authorization.js';
import type { OcppConfiguration } from './model/configuration.js';
import type { CertificateStore } from './model/certificate-store.js';
import type { Availability } from './model/availability-store.js';
import { BootStatus, ChangeSignal } from './boot-status.js';
import type { ConnectorView, StorageProblem } from './model/connector-status.js';
import { AvailabilityControl } from './availability.js';
import { OcppTime } from './ocpp-clock.js';
import { OcppSession, type BootState, type ChargePointIdentity } from './session.js';
import { ConnectorReporter, StatusNotifier } from './status-notifier.js';
import { TxQueue } from './model/tx-queue.js';
import { registerOperations } from './operations/index.js';
import { LinkSecurity } from './link-security.js';
import { OcppRpc } from './rpc.js';
import { Notifications } from './notifications.js';
import type { Availabilities, OcppServices, OcppSettings } from './services.js';
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
 * The OCPP 1.6J charge point: the composition root of the layer. It builds the services in the
 * order they depend on each other, each from services already built: the clock, the boot status
 * and the RPC; what waits for the central system (the journal, notifications, security events);
 * the link's security; the charging inputs (offline limit, smart charging, availability); the
 * transactions; the status; last the session over the link. A service that follows one built
 * before it subscribes to its changes. Then it registers the operations of `operations/`, each of
 * which uses only the few services it declares.
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
  /** ChangeAvailability, Scheduled while a transaction runs. */
  readonly availability: Availabilities;
  readonly #availability: AvailabilityControl;
  readonly status: ConnectorReporter;
  readonly notifier: Notifications;
  readonly #queue: TxQueue;
  readonly #signedMeter: SignedMeterValues | null;
  /** Null without `ocpp.offlineLimitA`. */
  readonly #offlineLimit: OfflineLimit | null;
  readonly #unsubscribe: Array<() => void>;

  constructor(options: ChargePointOptions) {
    const { clock, configuration, settings, charging, profiles } = options;
    this.#o = options;
    this.settings = settings;
    this.configuration = configuration;
    this.authorization = options.authorization;
    this.certificates = options.certificates;
    this.charging = charging;
    this.firmwareUpdates = options.firmwareUpdates ?? null;
    this.diagnostics = options.diagnostics ?? null;
    const log = (this.log = options.log.child({ module: 'ocpp' }));

    // The clock, where Boot stands, and the RPC, which serves nothing while Boot is Rejected.
    const time = (this.time = new OcppTime({
      clock,
      log,
      ...(options.hostClockSynced !== undefined && { hostClockSynced: options.hostClockSynced }),
    }));
    const boot = new BootStatus();
    const rpc = (this.rpc = new OcppRpc({
      clock,
      log: options.log,
      serving: () => boot.serving,
      ...(options.callTimeoutMs !== undefined && { callTimeoutMs: options.callTimeoutMs }),
    }));
    const online = (): boolean => boot.online(rpc);
    const timestamp = (): string => time.timestamp();

    // What waits until the central system can be told.
    const queue = (this.#queue = new TxQueue(
      {
        rpc,
        clock,
        log,
        attempts: () => configuration.integer('TransactionMessageAttempts'),
        retryIntervalS: () => configuration.integer('TransactionMessageRetryInterval'),
        canSend: online,
      },
      options.queue,
    ));
    const notifier = (this.notifier = new Notifications({ rpc, log, online }));
    const securityEvents = (this.securityEvents = new SecurityEvents({ rpc, log, timestamp, canSend: online }));
    const link = (this.link = new LinkSecurity(options.link, {
      events: securityEvents,
      configuration,
      knownTimeMs: () => time.knownTimeMs(),
    }));

    // The charging inputs: the comm-loss limit, the profiles (which it lowers), the availability.
    const { offlineLimitA = null, offlineAfterS = 300 } = settings;
    const offlineLimitChanged = new ChangeSignal();
    const offlineLimit = (this.#offlineLimit =
      offlineLimitA === null
        ? null
        : new OfflineLimit({ limitA: offlineLimitA, afterS: offlineAfterS, clock, log, onChange: () => offlineLimitChanged.emit() }));
    const smartCharging = (this.smartCharging = new SmartCharging({
      store: profiles,
      charging,
      configuration,
      clock,
      log,
      connectorId: settings.connectorId,
      voltageV: options.evse.voltageV,
      maxCurrentA: options.evse.maxCurrentA,
      nowMs: () => time.nowMs(),
      offlineLimitA: () => offlineLimit?.limitA ?? null,
    }));
    const availability = (this.#availability = new AvailabilityControl({ log }));

    // The transactions.
    const signingMeter = options.signingMeter ?? null;
    const signedMeter = (this.#signedMeter =
      signingMeter && new SignedMeterValues({ meter: signingMeter, clock, log, fixedIdTag: settings.fixedIdTag }));
    const transactionsChanged = new ChangeSignal();
    const transactions = (this.transactions = new TransactionService({
      signedMeter,
      rpc,
      queue,
      charging,
      configuration,
      authorization: options.authorization,
      clock,
      log,
      connectorId: settings.connectorId,
      fixedIdTag: settings.fixedIdTag,
      timestamp,
      online,
      available: () => availability.available,
      onChange: () => transactionsChanged.emit(),
      onTransaction: (tx) => smartCharging.transactionChanged(tx),
      onIdTag: options.onIdTag,
      ...(options.onTransactionEnded !== undefined && { onEnded: options.onTransactionEnded }),
    }));
    this.availability = { change: (type) => availability.change(type, transactions.transaction !== null) };

    // The connector's status as the central system is told it.
    const statuses = new StatusNotifier({ rpc, log, timestamp, queue });
    const status = (this.status = new ConnectorReporter({
      notifier: statuses,
      connectorId: settings.connectorId,
      charging,
      transactions,
      availability,
      profiles,
      queue,
      online,
    }));

    // The session over the link: Boot, Heartbeat, and what follows from the link coming and going.
    const session = (this.session = new OcppSession({
      rpc,
      boot,
      clock,
      log,
      configuration,
      identity: options.identity,
      time,
      offlineLimit,
      meterIdentity: async () => (await signedMeter?.identity()) ?? null,
      connect: options.connector ?? webSocketConnector({ settings, link, rpc, clock, log: options.log, configuration }),
      beforeBoot: () => link.linkOpened(),
      onUnreachable: (failure, failedTarget) => {
        if (failure !== null && failedTarget !== null) link.linkFailed(failure, failedTarget);
        // The backend is unreachable: the offline rules let a plug-in start a transaction.
        transactions.ready();
        if (failure === null) statuses.forget();
      },
      onAccepted: (firstTime) => {
        if (firstTime) {
          statuses.forget();
          transactions.ready();
        }
        status.report();
        // The central system can be told again: what waited goes out.
        notifier.sendWaiting();
        void queue.drain();
        void securityEvents.flush();
      },
    }));

    // Who follows whom, now that all are built.
    this.#unsubscribe = [
      offlineLimitChanged.on(() => smartCharging.apply()),
      transactionsChanged.on(() => {
        // A scheduled availability change applies before the status that follows from the end.
        if (transactions.transaction === null) availability.applyScheduled();
        status.report();
      }),
      availability.onChange(() => {
        transactions.availabilityChanged();
        status.report();
      }),
      link.onRetarget((target, why) => session.link.retarget(target, why)),
      charging.onChange(() => status.report()),
      queue.onDurable(() => status.report()),
    ];
    time.onSet((movedMs) => {
      // Stamped with the time just set: the one the central system goes by.
      if (OcppTime.isEvent(movedMs))
        securityEvents.report('SettingSystemTime', `clock set from the central system by ${Math.round(movedMs)} ms`);
      // Profile boundaries are in the central system's time.
      smartCharging.apply();
    });
    configuration.onChange((key) => {
      if (key === 'HeartbeatInterval') session.scheduleHeartbeat();
      if (key === 'ClockAlignedDataInterval') transactions.scheduleAligned();
      if (key === 'MeterValueSampleInterval') transactions.sampleIntervalChanged();
      if (key === 'WebSocketPingInterval') session.link.pingIntervalChanged();
    });
    options.rfid.onCard = (idTag) => void transactions.cardPresented(idTag);
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
    return this.#availability.available;
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
    await this.#availability.load(this.#o.dataDir);
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
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
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
}

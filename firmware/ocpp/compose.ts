import { BootStatus, ChangeSignal } from './boot-status.js';
import { AvailabilityControl } from './availability.js';
import type { ChargePointOptions } from './charge-point-options.js';
import { webSocketConnector } from './connector.js';
import { LinkSecurity } from './link-security.js';
import { TxQueue } from './model/tx-queue.js';
import { Notifications } from './notifications.js';
import { OcppTime } from './ocpp-clock.js';
import { OfflineLimit } from './offline-limit.js';
import { OcppRpc } from './rpc.js';
import { SecurityEvents } from './security-events.js';
import type { Availabilities } from './services.js';
import { OcppSession } from './session.js';
import { SignedMeterValues } from './signed-meter-values.js';
import { SmartCharging } from './smart-charging.js';
import { ConnectorReporter, StatusNotifier } from './status-notifier.js';
import { TransactionService, type Transaction } from './transactions.js';
import type { Logger } from '../log.js';

/** The services of the charge point, built. */
export interface ChargePointServices {
  readonly log: Logger;
  readonly time: OcppTime;
  readonly rpc: OcppRpc;
  readonly queue: TxQueue;
  readonly notifier: Notifications;
  readonly securityEvents: SecurityEvents;
  readonly link: LinkSecurity;
  /** Null without `ocpp.offlineLimitA`. */
  readonly offlineLimit: OfflineLimit | null;
  readonly smartCharging: SmartCharging;
  readonly availabilityControl: AvailabilityControl;
  /** ChangeAvailability: Scheduled while a transaction runs. */
  readonly availability: Availabilities;
  readonly signedMeter: SignedMeterValues | null;
  readonly transactions: TransactionService;
  readonly status: ConnectorReporter;
  readonly session: OcppSession;
  /** Ends what follows what (at stop). */
  readonly unsubscribe: ReadonlyArray<() => void>;
}

/**
 * Builds the charge point's services in the order they depend on each other, each from services
 * already built: the clock, where Boot stands and the RPC; what waits for the central system (the
 * journal, notifications, security events); the link's security; the offline limit and the
 * availability; the transactions; smart charging (which reads the running transaction, as a
 * TxProfile may come before the transaction's start is on disk); the status; last the session
 * over the link. No service is handed a callback into one not built yet: where one follows a later
 * one, it subscribes to its changes (a `ChangeSignal`, or the service's own `on…`) once both exist.
 */
export function composeChargePoint(options: ChargePointOptions): ChargePointServices {
  const { clock, configuration, settings, charging, profiles } = options;
  const log = options.log.child({ module: 'ocpp' });
  // The clock, where Boot stands, and the RPC, which serves nothing while Boot is Rejected.
  const time = new OcppTime({
    clock,
    log,
    ...(options.hostClockSynced !== undefined && { hostClockSynced: options.hostClockSynced }),
  });
  const boot = new BootStatus();
  const rpc = new OcppRpc({
    clock,
    log: options.log,
    serving: () => boot.serving,
    ...(options.callTimeoutMs !== undefined && { callTimeoutMs: options.callTimeoutMs }),
  });
  const online = (): boolean => boot.online(rpc);
  const timestamp = (): string => time.timestamp();

  // What waits until the central system can be told.
  const queue = new TxQueue(
    {
      rpc,
      clock,
      log,
      attempts: () => configuration.integer('TransactionMessageAttempts'),
      retryIntervalS: () => configuration.integer('TransactionMessageRetryInterval'),
      canSend: online,
    },
    options.queue,
  );
  const notifier = new Notifications({ rpc, log, online });
  const securityEvents = new SecurityEvents({ rpc, log, timestamp, canSend: online });
  const link = new LinkSecurity(options.link, {
    events: securityEvents,
    configuration,
    knownTimeMs: () => time.knownTimeMs(),
  });

  // The charging inputs: the comm-loss limit (which lowers the profiles' limit), the availability.
  const { offlineLimitA = null, offlineAfterS = 300 } = settings;
  const offlineLimitChanged = new ChangeSignal();
  const offlineLimit =
    offlineLimitA === null
      ? null
      : new OfflineLimit({ limitA: offlineLimitA, afterS: offlineAfterS, clock, log, onChange: () => offlineLimitChanged.emit() });
  const availability = new AvailabilityControl({ log });

  // The transactions.
  const signingMeter = options.signingMeter ?? null;
  const signedMeter = signingMeter && new SignedMeterValues({ meter: signingMeter, clock, log, fixedIdTag: settings.fixedIdTag });
  const transactionsChanged = new ChangeSignal();
  const transactionChanged = new ChangeSignal<Transaction | null>();
  const transactions = new TransactionService({
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
    onTransaction: (tx) => transactionChanged.emit(tx),
    onIdTag: options.onIdTag,
    ...(options.onTransactionEnded !== undefined && { onEnded: options.onTransactionEnded }),
  });
  // Smart charging reads the transaction; it follows the transaction's start and end.
  const smartCharging = new SmartCharging({
    store: profiles,
    charging,
    configuration,
    clock,
    log,
    connectorId: settings.connectorId,
    voltageV: options.evse.voltageV,
    maxCurrentA: options.evse.maxCurrentA,
    nowMs: () => time.nowMs(),
    transaction: () => transactions.transaction,
    offlineLimitA: () => offlineLimit?.limitA ?? null,
  });

  // The connector's status as the central system is told it.
  const statuses = new StatusNotifier({ rpc, log, timestamp, queue });
  const status = new ConnectorReporter({
    notifier: statuses,
    connectorId: settings.connectorId,
    charging,
    transactions,
    availability,
    profiles,
    queue,
    online,
  });

  // The session over the link: Boot, Heartbeat, and what follows from the link coming and going.
  const session = new OcppSession({
    rpc,
    boot,
    clock,
    log,
    configuration,
    identity: options.identity,
    time,
    offlineLimit,
    meterIdentity: async () => (await signedMeter?.identity()) ?? null,
    connect: options.connector ?? webSocketConnector({ settings, link, clock, log: options.log, configuration }),
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
  });

  // Who follows whom, now that all are built.
  const unsubscribe = [
    offlineLimitChanged.on(() => smartCharging.apply()),
    transactionChanged.on((tx) => smartCharging.transactionChanged(tx)),
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
    if (key === 'ClockAlignedDataInterval') transactions.meter.scheduleAligned();
    if (key === 'MeterValueSampleInterval') transactions.meter.sampleIntervalChanged();
    if (key === 'WebSocketPingInterval') session.link.pingIntervalChanged();
  });
  options.rfid.onCard = (idTag) => void transactions.cardPresented(idTag);
  return {
    log,
    time,
    rpc,
    queue,
    notifier,
    securityEvents,
    link,
    offlineLimit,
    smartCharging,
    availabilityControl: availability,
    availability: { change: (type) => availability.change(type, transactions.transaction !== null) },
    signedMeter,
    transactions,
    status,
    session,
    unsubscribe,
  };
}

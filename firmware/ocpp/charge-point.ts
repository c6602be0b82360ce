import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { SigningMeter } from '../../hal/meter.js';
import type { RfidReader } from '../../hal/rfid-reader.js';
import type { ChargingPort } from '../charging/port.js';
import type { Logger } from '../log.js';
import { OcppConnection } from './connection.js';
import type { AuthorizationStore } from './model/authorization.js';
import type { OcppConfiguration } from './model/configuration.js';
import type { CertificateStore } from './model/certificate-store.js';
import { LOST_PROFILES_LIMIT_A, type ProfileStore } from './model/profile-store.js';
import { AvailabilityStore, type Availability } from './model/availability-store.js';
import { connectorStatus, withStorageProblem, type ConnectorView, type StorageProblem } from './model/connector-status.js';
import { TxQueue, type StoredQueue } from './model/tx-queue.js';
import { registerOperations } from './operations/index.js';
import type { LinkSecurity } from './link-security.js';
import { OcppRpc } from './rpc.js';
import { SecurityEvents } from './security-events.js';
import { SignedMeterValues, type SignedMeterStatus } from './signed-meter-values.js';
import { OfflineLimit } from './offline-limit.js';
import { SmartCharging } from './smart-charging.js';
import { CLOCK_FLOOR_MS } from '../version.js';
import type { DiagnosticsUploader } from '../diagnostics/uploader.js';
import type { FirmwareUpdater } from '../update/updater.js';
import { TransactionService, type EndedTransaction, type RecoveryReason } from './transactions.js';

export interface OcppSettings {
  readonly url: string;
  readonly chargeBoxId: string;
  readonly password: string;
  readonly connectorId: number;
  readonly fixedIdTag: string;
  /** `ocpp.offlineLimitA` (null or absent: none) and `ocpp.offlineAfterS` [300]. */
  readonly offlineLimitA?: number | null;
  readonly offlineAfterS?: number;
}

export interface ChargePointIdentity {
  readonly vendor: string;
  readonly model: string;
  readonly serialNumber: string;
  readonly firmwareVersion: string;
}

export interface ChargePointOptions {
  readonly settings: OcppSettings;
  readonly identity: ChargePointIdentity;
  readonly charging: ChargingPort;
  readonly rfid: RfidReader;
  readonly configuration: OcppConfiguration;
  readonly authorization: AuthorizationStore;
  readonly profiles: ProfileStore;
  readonly certificates: CertificateStore;
  /** The security profile: what the link connects with, and the keys SecurityProfile and AuthorizationKey. */
  readonly link: LinkSecurity;
  /** The transaction journal as read at boot (`TxQueue.load`). */
  readonly queue: StoredQueue;
  /** How transactions the journal still has open were cut: only the process restarted, or the machine. */
  readonly recoveryReason: RecoveryReason;
  /** `evse.voltageV` and `evse.maxCurrentA`, for charging profiles. */
  readonly evse: { readonly voltageV: number; readonly maxCurrentA: number };
  readonly clock: Clock;
  readonly log: Logger;
  /** Where availability is kept; null = not kept. */
  readonly dataDir: string | null;
  readonly onIdTag: (idTag: string) => void;
  /** Whether the OS reports the host clock synchronised (NTP), asked at every currentTime; until then the central system's time is used (CONTRACT §5). */
  readonly hostClockSynced?: () => boolean;
  readonly callTimeoutMs?: number;
  /** A transaction ended (the owner's history). */
  readonly onTransactionEnded?: (ended: EndedTransaction) => void;
  /** Firmware updates (UpdateFirmware); without it the operation is not offered. */
  readonly firmwareUpdates?: FirmwareUpdater;
  /** Diagnostics uploads (GetDiagnostics); without it the operation is not offered. */
  readonly diagnostics?: DiagnosticsUploader;
  /** The meter signs its readings (CONTRACT §9): transactions carry its records. Reached only through this interface. */
  readonly signingMeter?: SigningMeter | null;
}

export type BootState = 'none' | 'Pending' | 'Rejected' | 'Accepted';
export type { Availability };

/** Retry after a failed or unanswered BootNotification when the backend gave no interval. */
const BOOT_RETRY_MS = 30_000;

/**
 * The latest currentTime taken: a century before 9999-12-31T23:59:59.999Z, the last instant an
 * OCPP (RFC 3339, four-digit year) timestamp can carry, so that the box's own timestamps stay
 * schema-valid for its life.
 */
const LATEST_PLAUSIBLE_MS = Date.parse('9899-12-31T23:59:59.999Z');

/** A correction of the clock by the central system this large is a SettingSystemTime security event. */
const CLOCK_SET_EVENT_MS = 5_000;

/**
 * The OCPP 1.6J charge point: the link, BootNotification (nothing else until Accepted),
 * Heartbeat, StatusNotification of connector 0 and the connector, the clock from the central
 * system, and the operations of `operations/` over the models of `model/`.
 */
export class ChargePoint {
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
  readonly #connection: OcppConnection;
  readonly #queue: TxQueue;
  readonly #signedMeter: SignedMeterValues | null;
  /** Null without `ocpp.offlineLimitA`. */
  readonly #offlineLimit: OfflineLimit | null;
  #boot: BootState = 'none';
  #bootTimer: TimerHandle | null = null;
  #heartbeatTimer: TimerHandle | null = null;
  #clockOffsetMs = 0;
  #clockFromCentralSystem = false;
  #availability: Availability = 'Operative';
  /** Where the availability is kept (loaded by start()). */
  #availabilityStore: AvailabilityStore | null = null;
  #scheduledAvailability: Availability | null = null;
  #sent = new Map<number, string>();
  #statusChain: Promise<void> = Promise.resolve();
  #statusesWaiting = 0;
  #stopped = false;
  readonly #unsubscribeCharging: () => void;
  /** Notifications waiting for Boot Accepted, the latest per action. */
  #waitingNotifications = new Map<string, Record<string, unknown>>();

  constructor(options: ChargePointOptions) {
    this.#o = options;
    this.settings = options.settings;
    this.configuration = options.configuration;
    this.authorization = options.authorization;
    this.certificates = options.certificates;
    this.link = options.link;
    this.charging = options.charging;
    this.firmwareUpdates = options.firmwareUpdates ?? null;
    this.diagnostics = options.diagnostics ?? null;
    this.log = options.log.child({ module: 'ocpp' });
    this.rpc = new OcppRpc({
      clock: options.clock,
      log: options.log,
      serving: () => this.#boot !== 'Rejected',
      ...(options.callTimeoutMs !== undefined && { callTimeoutMs: options.callTimeoutMs }),
    });
    this.#queue = new TxQueue(
      {
        rpc: this.rpc,
        clock: options.clock,
        log: this.log,
        attempts: () => options.configuration.integer('TransactionMessageAttempts'),
        retryIntervalS: () => options.configuration.integer('TransactionMessageRetryInterval'),
        canSend: () => this.online,
      },
      options.queue,
    );
    const signingMeter = options.signingMeter ?? null;
    this.#signedMeter =
      signingMeter &&
      new SignedMeterValues({ meter: signingMeter, clock: options.clock, log: this.log, fixedIdTag: options.settings.fixedIdTag });
    this.transactions = new TransactionService({
      signedMeter: this.#signedMeter,
      rpc: this.rpc,
      queue: this.#queue,
      charging: options.charging,
      configuration: options.configuration,
      authorization: options.authorization,
      clock: options.clock,
      log: this.log,
      connectorId: options.settings.connectorId,
      fixedIdTag: options.settings.fixedIdTag,
      timestamp: () => this.timestamp(),
      online: () => this.online,
      available: () => this.available,
      onChange: () => {
        if (this.transactions.transaction === null) this.#applyScheduledAvailability();
        this.reportStatus();
      },
      onTransaction: (tx) => this.smartCharging.transactionChanged(tx),
      onIdTag: options.onIdTag,
      ...(options.onTransactionEnded !== undefined && { onEnded: options.onTransactionEnded }),
    });
    const { offlineLimitA = null, offlineAfterS = 300 } = options.settings;
    this.#offlineLimit =
      offlineLimitA === null
        ? null
        : new OfflineLimit({
            limitA: offlineLimitA,
            afterS: offlineAfterS,
            clock: options.clock,
            log: this.log,
            onChange: () => this.smartCharging.apply(),
          });
    this.smartCharging = new SmartCharging({
      store: options.profiles,
      charging: options.charging,
      configuration: options.configuration,
      clock: options.clock,
      log: this.log,
      connectorId: options.settings.connectorId,
      voltageV: options.evse.voltageV,
      maxCurrentA: options.evse.maxCurrentA,
      nowMs: () => options.clock.now() + this.#clockOffsetMs,
      transaction: () => this.transactions.transaction,
      offlineLimitA: () => this.#offlineLimit?.limitA ?? null,
    });
    this.securityEvents = new SecurityEvents({
      rpc: this.rpc,
      log: this.log,
      timestamp: () => this.timestamp(),
      canSend: () => this.online,
    });
    const target = options.link.target;
    this.#connection = new OcppConnection({
      url: target.url,
      chargeBoxId: options.settings.chargeBoxId,
      password: target.password,
      rpc: this.rpc,
      clock: options.clock,
      log: options.log,
      pingIntervalS: () => options.configuration.integer('WebSocketPingInterval'),
      onOpen: () => void this.#linkUp(),
      onClose: () => this.#linkDown(),
      onUnreachable: (failure, failedTarget) => {
        options.link.linkFailed(failure, failedTarget);
        this.transactions.ready();
      },
      ...(target.tls !== undefined && { tls: target.tls }),
    });
    options.link.attach(this.#connection, this.securityEvents, options.configuration, () => this.knownTimeMs());
    options.rfid.onCard = (idTag) => void this.transactions.cardPresented(idTag);
    const unsubscribeCharging = options.charging.onChange(() => this.reportStatus());
    const unsubscribeDurable = this.#queue.onDurable(() => this.reportStatus());
    this.#unsubscribeCharging = () => {
      unsubscribeCharging();
      unsubscribeDurable();
    };
    options.configuration.onChange((key) => {
      if (key === 'HeartbeatInterval') this.#scheduleHeartbeat();
      if (key === 'ClockAlignedDataInterval') this.transactions.scheduleAligned();
      if (key === 'MeterValueSampleInterval') this.transactions.sampleIntervalChanged();
      if (key === 'WebSocketPingInterval') this.#connection.pingIntervalChanged();
    });
    registerOperations(this);
  }

  /** OCPP time now: the host clock, or the central system's time when the host has no source. */
  timestamp(): string {
    return new Date(this.#o.clock.now() + this.#clockOffsetMs).toISOString();
  }

  get online(): boolean {
    return this.#boot === 'Accepted' && this.rpc.connected;
  }

  /** `ocpp.offlineLimitA` applies now: the central system has been unreachable for `ocpp.offlineAfterS`. */
  get offlineLimitActive(): boolean {
    return (this.#offlineLimit?.limitA ?? null) !== null;
  }

  get available(): boolean {
    return this.#availability === 'Operative';
  }

  get bootState(): BootState {
    return this.#boot;
  }

  /**
   * OCPP time now in ms, or null while it is not known: the host has no time source and the
   * central system has not given one, and the host clock is before this firmware was built.
   * Certificate validity is checked only against a known time (README: TLS).
   */
  knownTimeMs(): number | null {
    const nowMs = this.#o.clock.now() + this.#clockOffsetMs;
    return this.#hostClockSynced() || this.#clockFromCentralSystem || nowMs >= CLOCK_FLOOR_MS ? nowMs : null;
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
    this.#availabilityStore = await AvailabilityStore.load(this.#o.dataDir, this.log);
    this.#availability = this.#availabilityStore.availability;
    await this.#signedMeter?.identity();
    const signedEndRecord = (await this.#signedMeter?.recover(this.#queue.openTransactions.length > 0)) ?? null;
    this.transactions.recover(this.#o.recoveryReason, signedEndRecord);
    this.transactions.availabilityChanged();
    this.transactions.scheduleAligned();
    this.smartCharging.apply();
    this.securityEvents.report('StartupOfTheDevice', `firmware ${this.#o.identity.firmwareVersion}`);
    // Unreachable until the first accepted BootNotification says otherwise.
    this.#offlineLimit?.unreachable();
    this.#connection.start();
  }

  /** Clean stop: a running transaction ends with reason Reboot (sent if the link is up). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.transactions.stop('Reboot');
    await this.#queue.drain();
    this.#clearTimers();
    this.#offlineLimit?.stop();
    this.#unsubscribeCharging();
    this.transactions.close();
    this.smartCharging.stop();
    await this.#connection.stop();
    await this.#queue.close();
  }

  /** Sends the StatusNotifications whose content changed (after Boot is Accepted). */
  reportStatus(): void {
    if (this.#boot !== 'Accepted' || !this.rpc.connected) return;
    this.#notify(
      0,
      withStorageProblem(this.#storageInfo(), { status: this.available ? 'Available' : 'Unavailable', errorCode: 'NoError' }),
    );
    this.#notify(this.settings.connectorId, this.connectorView());
  }

  /** The connector's status per CONTRACT §5. */
  connectorView(): ConnectorView {
    return withStorageProblem(
      this.#storageInfo(),
      connectorStatus({
        charging: this.charging.status(),
        transactionRunning: this.transactions.transaction !== null,
        finishing: this.transactions.finishing,
        inoperative: !this.available,
        reserved: this.transactions.reservation !== null,
      }),
    );
  }

  /**
   * State files read back damaged or a journal that cannot be written, with the safe side taken
   * (status API, web page); the first is reported to the central system as InternalError (README).
   */
  storageProblems(): StorageProblem[] {
    const problems: StorageProblem[] = [];
    const availabilityLost = this.#availabilityStore?.lost ?? null;
    if (availabilityLost !== null)
      problems.push({
        file: 'ocpp-availability.json',
        problem: availabilityLost,
        safeSide: 'Inoperative until ChangeAvailability',
        info: 'availability unreadable: Inoperative',
      });
    const profilesLost = this.#o.profiles.lost;
    if (profilesLost !== null)
      problems.push({
        file: 'ocpp-charging-profiles.json',
        problem: profilesLost,
        safeSide: `at most ${LOST_PROFILES_LIMIT_A} A until a profile is sent`,
        info: `charging profiles lost: ${LOST_PROFILES_LIMIT_A} A until sent again`,
      });
    // Issue #18 hook: a journal that lost records at boot, an open-transaction marker that could not be read.
    const { journal: journalDamage, marker: markerDamage } = this.#queue.journalDamage;
    if (journalDamage !== null)
      problems.push({
        file: 'ocpp-transactions.jsonl',
        problem: journalDamage,
        safeSide: 'open transactions closed from ocpp-open-transactions.json; confirmed stops never sent again',
        info: 'transaction journal damaged: closed from marker',
      });
    if (markerDamage !== null)
      problems.push({
        file: 'ocpp-open-transactions.json',
        problem: markerDamage,
        safeSide: 'its previous generation, else the journal alone',
        info: 'open-transaction marker unreadable',
      });
    if (!this.#queue.durable)
      problems.push({
        file: 'ocpp-transactions.jsonl',
        problem: 'cannot be written',
        safeSide: 'no new charging until its start is on disk; messages wait in memory',
        info: 'dataDir not writable: messages held',
      });
    return problems;
  }

  #storageInfo(): string | null {
    return this.storageProblems()[0]?.info ?? null;
  }

  /** TriggerMessage StatusNotification: send again even if unchanged. */
  resendStatus(connectorId: number | undefined): void {
    if (connectorId === undefined || connectorId === 0) this.#sent.delete(0);
    if (connectorId === undefined || connectorId === this.settings.connectorId) this.#sent.delete(this.settings.connectorId);
    this.reportStatus();
  }

  /** ChangeAvailability; Scheduled while a transaction runs (applied when it ends). */
  async changeAvailability(type: Availability): Promise<'Accepted' | 'Scheduled'> {
    if (type === 'Inoperative' && this.transactions.transaction !== null) {
      this.#scheduledAvailability = type;
      return 'Scheduled';
    }
    this.#scheduledAvailability = null;
    await this.#setAvailability(type);
    return 'Accepted';
  }

  /** Clock ms of an OCPP timestamp (the central system's time scale). */
  clockMs(timestamp: string): number {
    return Date.parse(timestamp) - this.#clockOffsetMs;
  }

  /** No transaction any more: a scheduled availability change applies now, before any status goes out. */
  #applyScheduledAvailability(): void {
    if (this.#scheduledAvailability === null) return;
    const type = this.#scheduledAvailability;
    this.#scheduledAvailability = null;
    void this.#setAvailability(type);
  }

  /** Soft or Hard reset: the transaction ends with its reason, then the link and the boot start again. */
  async reset(type: 'Soft' | 'Hard'): Promise<void> {
    await this.transactions.stop(type === 'Soft' ? 'SoftReset' : 'HardReset');
    await this.#queue.drain();
    this.log.warn('reset', { type });
    this.securityEvents.report('ResetOrReboot', `${type} reset by the central system`);
    this.#boot = 'none';
    this.#connection.reconnect(`${type} reset`);
  }

  /**
   * Sends a status notification (FirmwareStatusNotification, DiagnosticsStatusNotification…) now
   * when online, else once Boot is Accepted again (only the latest per action is kept). Resolves
   * when it was answered, failed, or was put aside; never rejects.
   */
  async notify(action: string, payload: Record<string, unknown>): Promise<void> {
    if (!this.online) {
      this.#waitingNotifications.set(action, payload);
      return;
    }
    await this.rpc.call(action, payload).catch((err: unknown) => this.log.warn(`${action} failed`, { reason: (err as Error).message }));
  }

  /** The central system can be told again: what waited goes out (notifications, transaction messages, security events). */
  #sendPending(): void {
    const waiting = [...this.#waitingNotifications];
    this.#waitingNotifications.clear();
    for (const [action, payload] of waiting) void this.notify(action, payload);
    void this.#queue.drain();
    void this.securityEvents.flush();
  }

  async heartbeat(): Promise<void> {
    const response = await this.rpc.call<{ currentTime: string }>('Heartbeat', {});
    this.#offlineLimit?.reached();
    this.#takeTime(response.currentTime);
  }

  async bootNotificationNow(): Promise<void> {
    await this.#bootNotification();
  }

  /** In force at once (the status follows), then kept: availability survives a restart (OCPP 1.6 §5.2). */
  async #setAvailability(type: Availability): Promise<void> {
    const saved = this.#availabilityStore?.set(type);
    this.#availability = type;
    this.transactions.availabilityChanged();
    this.reportStatus();
    await saved;
  }

  #notify(connectorId: number, view: ConnectorView): void {
    const key = `${view.status}/${view.errorCode}/${view.info ?? ''}`;
    if (this.#sent.get(connectorId) === key) return;
    this.#sent.set(connectorId, key);
    const payload = {
      connectorId,
      status: view.status,
      errorCode: view.errorCode,
      ...(view.info !== undefined && { info: view.info }),
      timestamp: this.timestamp(),
    };
    const send = (): Promise<void> =>
      this.rpc.call('StatusNotification', payload).then(
        () => {},
        (err: unknown) => {
          this.#sent.delete(connectorId);
          this.log.warn('StatusNotification failed', { reason: (err as Error).message });
        },
      );
    if (this.#statusesWaiting === 0 && this.#queue.length === 0) {
      void send();
      return;
    }
    // A status follows the transaction messages queued before it (Available after the
    // StopTransaction still waiting behind a MeterValues answer); statuses keep their own order.
    this.#statusesWaiting += 1;
    this.#statusChain = this.#statusChain
      .then(() => (this.#queue.length > 0 ? this.#queue.drain() : undefined))
      .then(send)
      .finally(() => (this.#statusesWaiting -= 1));
  }

  async #bootNotification(): Promise<void> {
    if (this.#bootTimer !== null) this.#o.clock.clearTimeout(this.#bootTimer);
    this.#bootTimer = null;
    const { identity } = this.#o;
    const meter = await this.#signedMeter?.identity();
    try {
      const response = await this.rpc.call<{ status: BootState; interval: number; currentTime: string }>('BootNotification', {
        chargePointVendor: identity.vendor,
        chargePointModel: identity.model,
        chargePointSerialNumber: identity.serialNumber,
        firmwareVersion: identity.firmwareVersion,
        ...(meter && { meterType: meter.meterType.slice(0, 25), meterSerialNumber: meter.meterSerialNumber.slice(0, 25) }),
      });
      this.#connection.linkProven();
      this.#takeTime(response.currentTime);
      this.#boot = response.status;
      this.log.info('BootNotification', { status: response.status, interval: response.interval });
      if (response.status === 'Accepted') {
        this.#offlineLimit?.reached();
        if (response.interval > 0) await this.configuration.change('HeartbeatInterval', String(response.interval));
        this.#scheduleHeartbeat();
        this.#sent.clear();
        this.transactions.ready();
        this.reportStatus();
        this.#sendPending();
        return;
      }
      this.#retryBoot(response.interval > 0 ? response.interval * 1000 : BOOT_RETRY_MS);
    } catch (err) {
      this.log.warn('BootNotification failed', { reason: (err as Error).message });
      this.#retryBoot(BOOT_RETRY_MS);
    }
  }

  #retryBoot(delayMs: number): void {
    if (this.#stopped || !this.rpc.connected) return;
    this.#bootTimer = this.#o.clock.setTimeout(() => void this.#bootNotification(), delayMs);
  }

  /** Boot once per start (and after a reset); a reconnect after that resumes at once. */
  async #linkUp(): Promise<void> {
    await this.link.linkOpened();
    if (this.#boot !== 'Accepted') {
      await this.#bootNotification();
      return;
    }
    this.#scheduleHeartbeat();
    this.reportStatus();
    this.#sendPending();
    // The offline countdown (or limit) ends only when the central system answers, not when a socket opens.
    if (this.#offlineLimit?.waiting === true) {
      this.heartbeat().catch((err: unknown) => this.log.warn('Heartbeat after the reconnect failed', { reason: (err as Error).message }));
    }
  }

  #linkDown(): void {
    this.#offlineLimit?.unreachable();
    if (this.#boot !== 'Accepted') this.#boot = 'none';
    this.#clearTimers();
    // The backend is unreachable: the offline rules let a plug-in start a transaction.
    this.transactions.ready();
    this.#sent.clear();
  }

  #scheduleHeartbeat(): void {
    if (this.#heartbeatTimer !== null) this.#o.clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
    if (this.#boot !== 'Accepted' || !this.rpc.connected) return;
    const intervalMs = this.configuration.integer('HeartbeatInterval') * 1000;
    this.#heartbeatTimer = this.#o.clock.setTimeout(() => {
      this.heartbeat().then(
        () => {
          this.#connection.linkProven();
          this.#scheduleHeartbeat();
        },
        (err: unknown) => {
          // No answer to the heartbeat: the link is dead even if the socket says otherwise.
          this.log.warn('Heartbeat failed', { reason: (err as Error).message });
          this.#connection.reconnect('heartbeat unanswered');
        },
      );
    }, intervalMs);
  }

  #hostClockSynced(): boolean {
    return this.#o.hostClockSynced?.() === true;
  }

  /**
   * CONTRACT §5: Boot's and Heartbeat's currentTime set the OCPP clock only while the host clock
   * is not synchronised, and only when plausible: not before this firmware was built, and far
   * enough from the last time a schema-valid timestamp can carry that ours stay valid.
   */
  #takeTime(currentTime: string): void {
    if (this.#hostClockSynced()) return;
    const serverMs = Date.parse(currentTime);
    if (!Number.isFinite(serverMs)) return;
    if (serverMs < CLOCK_FLOOR_MS || serverMs > LATEST_PLAUSIBLE_MS) {
      this.log.warn('implausible currentTime from the central system ignored', { currentTime });
      return;
    }
    const offsetMs = serverMs - this.#o.clock.now();
    const movedMs = offsetMs - this.#clockOffsetMs;
    this.#clockFromCentralSystem = true;
    this.#clockOffsetMs = offsetMs;
    // Stamped with the time just set: the one the central system goes by.
    if (Math.abs(movedMs) >= CLOCK_SET_EVENT_MS)
      this.securityEvents.report('SettingSystemTime', `clock set from the central system by ${Math.round(movedMs)} ms`);
    // Profile boundaries are in the central system's time.
    this.smartCharging.apply();
  }

  #clearTimers(): void {
    for (const timer of [this.#bootTimer, this.#heartbeatTimer]) if (timer !== null) this.#o.clock.clearTimeout(timer);
    this.#bootTimer = null;
    this.#heartbeatTimer = null;
  }
}

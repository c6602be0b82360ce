import type { ChargingPort } from '../charging/port.js';
import type { Logger } from '../log.js';
import type { ChargePointOptions } from './charge-point-options.js';
import { composeChargePoint } from './compose.js';
import type { AuthorizationStore } from './model/authorization.js';
import type { OcppConfiguration } from './model/configuration.js';
import type { CertificateStore } from './model/certificate-store.js';
import type { Availability } from './model/availability-store.js';
import type { ConnectorView, StorageProblem } from './model/connector-status.js';
import type { AvailabilityControl } from './availability.js';
import type { OcppTime } from './ocpp-clock.js';
import type { BootState, ChargePointIdentity, OcppSession } from './session.js';
import type { ConnectorReporter } from './status-notifier.js';
import type { TxQueue } from './model/tx-queue.js';
import { registerOperations } from './operations/index.js';
import type { LinkSecurity } from './link-security.js';
import type { OcppRpc } from './rpc.js';
import type { Notifications } from './notifications.js';
import type { Availabilities, OcppServices, OcppSettings } from './services.js';
import type { SecurityEvents } from './security-events.js';
import type { SignedMeterStatus, SignedMeterValues } from './signed-meter-values.js';
import type { OfflineLimit } from './offline-limit.js';
import type { SmartCharging } from './smart-charging.js';
import type { DiagnosticsUploader } from '../diagnostics/uploader.js';
import type { FirmwareUpdater } from '../update/updater.js';
import type { TransactionService } from './transactions.js';

export type { Availability, BootState, ChargePointIdentity, ChargePointOptions, OcppSettings };

/**
 * The OCPP 1.6J charge point: the composition root of the layer. It builds its services in the
 * order they depend on each other (`compose.ts`), then registers the operations of `operations/`,
 * each of which uses only the few services it declares; it starts, stops and resets them, and
 * shows the firmware what its status API needs.
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
  readonly #unsubscribe: ReadonlyArray<() => void>;

  constructor(options: ChargePointOptions) {
    this.#o = options;
    this.settings = options.settings;
    this.configuration = options.configuration;
    this.authorization = options.authorization;
    this.certificates = options.certificates;
    this.charging = options.charging;
    this.firmwareUpdates = options.firmwareUpdates ?? null;
    this.diagnostics = options.diagnostics ?? null;
    const services = composeChargePoint(options);
    this.log = services.log;
    this.time = services.time;
    this.rpc = services.rpc;
    this.#queue = services.queue;
    this.notifier = services.notifier;
    this.securityEvents = services.securityEvents;
    this.link = services.link;
    this.#offlineLimit = services.offlineLimit;
    this.smartCharging = services.smartCharging;
    this.#availability = services.availabilityControl;
    this.availability = services.availability;
    this.#signedMeter = services.signedMeter;
    this.transactions = services.transactions;
    this.status = services.status;
    this.session = services.session;
    this.#unsubscribe = services.unsubscribe;
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
    this.transactions.meter.scheduleAligned();
    this.smartCharging.apply();
    this.securityEvents.report('StartupOfTheDevice', `firmware ${this.#o.identity.firmwareVersion}`);
    // Unreachable until the first accepted BootNotification says otherwise.
    this.#offlineLimit?.unreachable();
    this.session.link.start();
  }

  /** Clean stop: a running transaction ends with reason Reboot (sent if the link is up). */
  async stop(): Promise<void> {
    await this.transactions.shutDown('Reboot');
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
    this.transactions.rebooted();
    this.session.restart();
    this.session.link.reconnect(`${type} reset`);
  }
}

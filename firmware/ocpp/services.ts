import type { ChargingPort } from '../charging/port.js';
import type { DiagnosticsUploader } from '../diagnostics/uploader.js';
import type { Logger } from '../log.js';
import type { FirmwareUpdater } from '../update/updater.js';
import type { LinkSecurity } from './link-security.js';
import type { RequestOf } from './messages.js';
import type { AuthorizationStore } from './model/authorization.js';
import type { Availability } from './model/availability-store.js';
import type { CertificateStore } from './model/certificate-store.js';
import type { OcppConfiguration } from './model/configuration.js';
import type { ConnectorView } from './model/connector-status.js';
import type { OcppRpc } from './rpc.js';
import type { SecurityEvents } from './security-events.js';
import type { SmartCharging } from './smart-charging.js';
import type { TransactionService } from './transactions.js';

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

/** The OCPP clock: the host's, or the central system's while the host has no time source (CONTRACT §5). */
export interface OcppClock {
  /** OCPP time now, ISO 8601. */
  timestamp(): string;
  /** Clock ms of an OCPP timestamp (the central system's time scale). */
  clockMs(timestamp: string): number;
  /** OCPP time now in ms, or null while it is not known (certificate validity is checked only against a known time). */
  knownTimeMs(): number | null;
}

/** The status messages that wait for Boot Accepted (the latest per action) when the central system cannot be told. */
export type NotificationAction =
  'DiagnosticsStatusNotification' | 'FirmwareStatusNotification' | 'LogStatusNotification' | 'SignedFirmwareStatusNotification';

export interface Notifier {
  /** Sends now when online, else once Boot is Accepted again; resolves when answered, failed or put aside. */
  notify<A extends NotificationAction>(action: A, payload: RequestOf<A>): Promise<void>;
}

/** The connector's status as the central system is told it. */
export interface StatusReporter {
  connectorView(): ConnectorView;
  /** TriggerMessage StatusNotification: send again even if unchanged. */
  resendStatus(connectorId: number | undefined): void;
}

export interface Availabilities {
  /** ChangeAvailability; Scheduled while a transaction runs (applied when it ends). */
  change(type: Availability): Promise<'Accepted' | 'Scheduled'>;
}

/** The OCPP session: BootNotification and Heartbeat. */
export interface Session {
  bootNotification(): Promise<void>;
  heartbeat(): Promise<void>;
}

/**
 * What the operations of `operations/` may use; each declares the few members it needs
 * (`Pick<OcppServices, ...>`). The charge point (the composition root) provides them all.
 */
export interface OcppServices {
  readonly rpc: OcppRpc;
  readonly time: OcppClock;
  readonly notifier: Notifier;
  readonly status: StatusReporter;
  readonly availability: Availabilities;
  readonly session: Session;
  /** Soft or Hard reset: the transaction ends with its reason, then the link and the boot start again. */
  reset(type: 'Soft' | 'Hard'): Promise<void>;
  readonly settings: OcppSettings;
  readonly log: Logger;
  readonly configuration: OcppConfiguration;
  readonly authorization: AuthorizationStore;
  readonly certificates: CertificateStore;
  readonly link: LinkSecurity;
  readonly securityEvents: SecurityEvents;
  readonly smartCharging: SmartCharging;
  readonly transactions: TransactionService;
  readonly charging: ChargingPort;
  readonly diagnostics: DiagnosticsUploader | null;
  readonly firmwareUpdates: FirmwareUpdater | null;
}

import type { Clock } from '../../hal/clock.js';
import type { SigningMeter } from '../../hal/meter.js';
import type { RfidReader } from '../../hal/rfid-reader.js';
import type { ChargingPort } from '../charging/port.js';
import type { DiagnosticsUploader } from '../diagnostics/uploader.js';
import type { Logger } from '../log.js';
import type { FirmwareUpdater } from '../update/updater.js';
import type { LoadedLinkSecurity } from './link-security.js';
import type { AuthorizationStore } from './model/authorization.js';
import type { CertificateStore } from './model/certificate-store.js';
import type { OcppConfiguration } from './model/configuration.js';
import type { ProfileStore } from './model/profile-store.js';
import type { StoredQueue } from './model/tx-queue.js';
import type { OcppSettings } from './services.js';
import type { ChargePointIdentity, Connector } from './session.js';
import type { EndedTransaction, RecoveryReason } from './transactions.js';

/** What the charge point is built from: settings, the charging port, the stores as read at boot, the HAL's reader and meter. */
export interface ChargePointOptions {
  readonly settings: OcppSettings;
  readonly identity: ChargePointIdentity;
  readonly charging: ChargingPort;
  readonly rfid: RfidReader;
  readonly configuration: OcppConfiguration;
  readonly authorization: AuthorizationStore;
  readonly profiles: ProfileStore;
  readonly certificates: CertificateStore;
  /** The security profile as read (`LinkSecurity.load`): what the link connects with, and the keys SecurityProfile and AuthorizationKey. */
  readonly link: LoadedLinkSecurity;
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
  /** The transport; default the WebSocket connection to the security profile's target. */
  readonly connector?: Connector;
}

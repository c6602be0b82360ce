import type { Clock } from '../../hal/clock.js';
import type { ChargingPort } from '../charging/port.js';
import type { Logger } from '../log.js';
import type { AuthorizationStore } from './model/authorization.js';
import type { ChargingProfile } from './model/charging-profile.js';
import type { OcppConfiguration } from './model/configuration.js';
import type { TxQueue } from './model/tx-queue.js';
import type { OcppRpc } from './rpc.js';
import type { SignedMeterValues } from './signed-meter-values.js';

/** How a transaction the journal still had open at boot was cut: only the process restarted, or the machine. */
export type RecoveryReason = 'Reboot' | 'PowerLoss';

export type StopReason =
  | 'Local'
  | 'EVDisconnected'
  | 'Remote'
  | 'HardReset'
  | 'SoftReset'
  | 'PowerLoss'
  | 'Reboot'
  | 'DeAuthorized'
  | 'UnlockCommand'
  | 'EmergencyStop'
  | 'Other';

export interface Transaction {
  /** The queue's number for it (unique across restarts); the central system's transactionId arrives with StartTransaction.conf. */
  readonly localId: number;
  transactionId: number | null;
  readonly idTag: string;
  readonly meterStartWh: number;
  readonly startedAt: string;
  authorized: boolean;
  /** The group of its idTag (IdTagInfo.parentIdTag): a card of the same group may stop it (OCPP 1.6 §3.5.3). */
  parentIdTag: string | null;
  /** The TxProfile its RemoteStartTransaction brought, if any. */
  readonly chargingProfile: ChargingProfile | null;
}

/** A transaction that ended, as the owner's history keeps it. */
export interface EndedTransaction {
  readonly localId: number;
  readonly transactionId: number | null;
  readonly idTag: string;
  readonly startedAt: string;
  readonly stoppedAt: string;
  readonly meterStartWh: number;
  readonly meterStopWh: number;
  readonly reason: StopReason;
}

export interface TransactionServiceOptions {
  readonly rpc: OcppRpc;
  readonly queue: TxQueue;
  readonly charging: ChargingPort;
  readonly configuration: OcppConfiguration;
  readonly authorization: AuthorizationStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly connectorId: number;
  /** `ocpp.fixedIdTag`; "" = wait for a card or RemoteStart. */
  readonly fixedIdTag: string;
  /** OCPP time now, ISO 8601 (the clock set from the central system). */
  readonly timestamp: () => string;
  /** The backend answers (Boot accepted and the link up). */
  readonly online: () => boolean;
  /** The connector may start a transaction (not Inoperative, no fault). */
  readonly available: () => boolean;
  /** Something the status depends on changed. */
  readonly onChange: () => void;
  /** A transaction started (before it permits charging) or ended (after charging was withdrawn). */
  readonly onTransaction: (tx: Transaction | null) => void;
  /** The idTag of the running or last transaction (Modbus 8096). */
  readonly onIdTag: (idTag: string) => void;
  /** A transaction ended (also one closed at boot after a restart cut it). */
  readonly onEnded?: (ended: EndedTransaction) => void;
  /** The calibration-law meter whose signed records the transactions carry (CONTRACT §9); none: unsigned. */
  readonly signedMeter?: SignedMeterValues | null;
}

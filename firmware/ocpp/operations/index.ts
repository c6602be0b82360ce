import type { OcppServices } from '../services.js';
import * as CancelReservation from './CancelReservation.js';
import * as CertificateSigned from './CertificateSigned.js';
import * as ChangeAvailability from './ChangeAvailability.js';
import * as ChangeConfiguration from './ChangeConfiguration.js';
import * as ClearCache from './ClearCache.js';
import * as ClearChargingProfile from './ClearChargingProfile.js';
import * as DataTransfer from './DataTransfer.js';
import * as DeleteCertificate from './DeleteCertificate.js';
import * as ExtendedTriggerMessage from './ExtendedTriggerMessage.js';
import * as GetCompositeSchedule from './GetCompositeSchedule.js';
import * as GetConfiguration from './GetConfiguration.js';
import * as GetDiagnostics from './GetDiagnostics.js';
import * as GetInstalledCertificateIds from './GetInstalledCertificateIds.js';
import * as GetLocalListVersion from './GetLocalListVersion.js';
import * as GetLog from './GetLog.js';
import * as InstallCertificate from './InstallCertificate.js';
import * as RemoteStartTransaction from './RemoteStartTransaction.js';
import * as RemoteStopTransaction from './RemoteStopTransaction.js';
import * as ReserveNow from './ReserveNow.js';
import * as Reset from './Reset.js';
import * as SendLocalList from './SendLocalList.js';
import * as SetChargingProfile from './SetChargingProfile.js';
import * as SignedUpdateFirmware from './SignedUpdateFirmware.js';
import * as TriggerMessage from './TriggerMessage.js';
import * as UnlockConnector from './UnlockConnector.js';
import * as UpdateFirmware from './UpdateFirmware.js';

/** The operations the central system may call (one file each). */
const OPERATIONS = [
  CancelReservation,
  CertificateSigned,
  ChangeAvailability,
  ChangeConfiguration,
  ClearCache,
  ClearChargingProfile,
  DataTransfer,
  DeleteCertificate,
  ExtendedTriggerMessage,
  GetCompositeSchedule,
  GetConfiguration,
  GetDiagnostics,
  GetInstalledCertificateIds,
  GetLocalListVersion,
  GetLog,
  InstallCertificate,
  RemoteStartTransaction,
  RemoteStopTransaction,
  ReserveNow,
  Reset,
  SendLocalList,
  SetChargingProfile,
  SignedUpdateFirmware,
  TriggerMessage,
  UnlockConnector,
  UpdateFirmware,
];

export function registerOperations(cp: OcppServices): void {
  for (const operation of OPERATIONS) operation.register(cp);
}

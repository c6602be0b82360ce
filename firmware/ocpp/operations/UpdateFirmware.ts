import type { FirmwareUpdateStatus } from '../../update/updater.js';
import type { OcppServices } from '../services.js';
import * as FirmwareStatusNotification from './FirmwareStatusNotification.js';
import type { FirmwareStatus16 } from './FirmwareStatusNotification.js';
import { retryPolicy } from './GetDiagnostics.js';

/** What this operation uses of the charge point. */
type Deps = Pick<OcppServices, 'firmwareUpdates' | 'notifier' | 'rpc' | 'securityEvents' | 'time'>;

/** The 1.6 FirmwareStatus for an updater status; null: nothing to send (no 1.6 equivalent). */
export function firmwareStatus16(status: FirmwareUpdateStatus): FirmwareStatus16 | null {
  switch (status) {
    case 'Downloading':
    case 'Downloaded':
    case 'DownloadFailed':
    case 'Installing':
    case 'Installed':
    case 'InstallationFailed':
    case 'Idle':
      return status;
    case 'InvalidSignature':
      return 'InstallationFailed';
    default:
      return null;
  }
}

/** The 1.6 FirmwareStatus that describes where an update stands (TriggerMessage FirmwareStatusNotification). */
export function firmwareState16(status: FirmwareUpdateStatus): FirmwareStatus16 {
  switch (status) {
    case 'SignatureVerified':
    case 'InstallScheduled':
      return 'Downloaded';
    case 'InstallRebooting':
      return 'Installing';
    case 'DownloadScheduled':
      return 'Idle';
    default:
      return firmwareStatus16(status) ?? 'Idle';
  }
}

/**
 * UpdateFirmware: answered at once; the download starts at retrieveDate and each step is reported
 * with FirmwareStatusNotification (Installed comes from the new version, InstallationFailed after
 * a rollback from the old one). Not offered without an updater.
 */
export function register(cp: Deps): void {
  const updater = cp.firmwareUpdates;
  if (updater === null) return;
  const report = async (status: FirmwareUpdateStatus, detail?: string): Promise<void> => {
    if (status === 'InvalidSignature') cp.securityEvents.report('InvalidFirmwareSignature', detail);
    if (status === 'Installed') cp.securityEvents.report('FirmwareUpdated', detail);
    const status16 = firmwareStatus16(status);
    if (status16 !== null) await FirmwareStatusNotification.send(cp, status16);
  };
  updater.deliverResults('UpdateFirmware', report);
  cp.rpc.handle('UpdateFirmware', (payload) => {
    const { location, retrieveDate, retries, retryInterval } = payload;
    updater.update(
      { location, retrieveAtMs: cp.time.clockMs(retrieveDate), ...retryPolicy(retries, retryInterval), origin: 'UpdateFirmware' },
      report,
    );
    return {};
  });
}

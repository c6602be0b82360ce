import { silentLogger } from '../../firmware/log.js';
import { ChargePoint } from '../../firmware/ocpp/charge-point.js';
import type { Connector } from '../../firmware/ocpp/session.js';
import { LinkSecurity } from '../../firmware/ocpp/link-security.js';
import { AuthorizationStore } from '../../firmware/ocpp/model/authorization.js';
import { CertificateStore } from '../../firmware/ocpp/model/certificate-store.js';
import { OcppConfiguration } from '../../firmware/ocpp/model/configuration.js';
import { ProfileStore } from '../../firmware/ocpp/model/profile-store.js';
import { TxQueue } from '../../firmware/ocpp/model/tx-queue.js';
import type { Rig } from './sim-rig.js';

/**
 * A charge point on `rig`'s controller and clock with every store in memory (no dataDir), built as
 * `firmware.ts` builds it. Not started: the test starts it, or drives its services directly.
 */
export async function memoryChargePoint(rig: Rig, options: { url: string; connector?: Connector }): Promise<ChargePoint> {
  const settings = { url: options.url, chargeBoxId: 'box', password: '', connectorId: 1, fixedIdTag: '' };
  const certificates = await CertificateStore.load(null, silentLogger);
  return new ChargePoint({
    settings,
    identity: { vendor: 'v', model: 'm', serialNumber: 's', firmwareVersion: '1.0.0' },
    charging: rig.controller,
    rfid: rig.hal.rfid,
    configuration: await OcppConfiguration.load(null, silentLogger),
    authorization: await AuthorizationStore.load(null, silentLogger),
    profiles: await ProfileStore.load(null, silentLogger),
    queue: await TxQueue.load(null, silentLogger),
    certificates,
    link: await LinkSecurity.load({
      settings: { ...settings, insecureTls: false },
      certificates,
      dataDir: null,
      saveAuthorizationKey: async () => {},
      log: silentLogger,
    }),
    recoveryReason: 'Reboot',
    evse: { voltageV: 230, maxCurrentA: 32 },
    clock: rig.clock,
    log: silentLogger,
    dataDir: null,
    onIdTag: () => {},
    ...(options.connector === undefined ? {} : { connector: options.connector }),
  });
}

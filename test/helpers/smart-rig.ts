import type { EvseSettings } from '../../firmware/charging/controller.js';
import { silentLogger } from '../../firmware/log.js';
import type { ChargingProfile, ChargingSchedulePeriod } from '../../firmware/ocpp/model/charging-profile.js';
import { OcppConfiguration } from '../../firmware/ocpp/model/configuration.js';
import { ProfileStore } from '../../firmware/ocpp/model/profile-store.js';
import { SmartCharging } from '../../firmware/ocpp/smart-charging.js';
import type { Transaction } from '../../firmware/ocpp/transactions.js';
import { simRig, type Rig } from './sim-rig.js';

/** The smart-charging service on the charging core and the simulated clock, with a stand-in transaction. */

/** OCPP time when the rig is made: a Monday, 10:00 UTC. */
export const EPOCH_MS = Date.parse('2026-03-02T10:00:00Z');

export interface SmartRig extends Rig {
  smart: SmartCharging;
  store: ProfileStore;
  /** OCPP time now, ISO. */
  iso(offsetS?: number): string;
  /** Starts one as TransactionService does: profiles first, then the permission. */
  startTransaction(chargingProfile?: ChargingProfile): Transaction;
  endTransaction(): void;
  set(connectorId: number, profile: ChargingProfile): Promise<string>;
}

export async function smartRig(evse: Partial<EvseSettings> = {}, tickMs?: number): Promise<SmartRig> {
  const rig = simRig({ ocpp: true, evse, ...(tickMs !== undefined && { tickMs }) });
  const store = await ProfileStore.load(null, silentLogger);
  const configuration = await OcppConfiguration.load(null, silentLogger);
  let tx: Transaction | null = null;
  const originMs = rig.clock.now();
  const nowMs = (): number => EPOCH_MS + rig.clock.now() - originMs;
  const smart = new SmartCharging({
    store,
    charging: rig.controller,
    configuration,
    clock: rig.clock,
    log: silentLogger,
    connectorId: 1,
    voltageV: 230,
    maxCurrentA: 32,
    nowMs,
    transaction: () => tx,
  });
  smart.apply();
  return Object.assign(rig, {
    smart,
    store,
    iso: (offsetS = 0) => new Date(nowMs() + offsetS * 1000).toISOString(),
    startTransaction(chargingProfile: ChargingProfile | null = null) {
      tx = {
        localId: 1,
        transactionId: 7,
        idTag: 'TAG',
        meterStartWh: 0,
        startedAt: new Date(nowMs()).toISOString(),
        authorized: true,
        parentIdTag: null,
        chargingProfile,
      };
      smart.transactionChanged(tx);
      rig.controller.setOcppAllowed(true);
      return tx;
    },
    endTransaction() {
      tx = null;
      rig.controller.setOcppAllowed(false);
      smart.transactionChanged(null);
    },
    set: (connectorId: number, profile: ChargingProfile) => rig.settle(smart.set(connectorId, profile)),
  });
}

/** A charging profile: an Absolute TxDefaultProfile of 16 A from 2026-03-02 10:00 unless told otherwise. */
export function chargingProfile(
  over: Partial<ChargingProfile> = {},
  schedule: Partial<ChargingProfile['chargingSchedule']> = {},
): ChargingProfile {
  return {
    chargingProfileId: 1,
    stackLevel: 0,
    chargingProfilePurpose: 'TxDefaultProfile',
    chargingProfileKind: 'Absolute',
    ...over,
    chargingSchedule: {
      chargingRateUnit: 'A',
      startSchedule: '2026-03-02T10:00:00Z',
      chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }],
      ...schedule,
    },
  };
}

export function txDefault(
  periods: ChargingSchedulePeriod[],
  startSchedule: string,
  over: Partial<ChargingProfile> = {},
  unit: 'A' | 'W' = 'A',
): ChargingProfile {
  return chargingProfile(over, { chargingRateUnit: unit, startSchedule, chargingSchedulePeriod: periods });
}

import type { ChargingStatus } from '../charging/controller.js';
import type { Firmware } from '../firmware.js';
import type { SignedMeterStatus } from '../ocpp/signed-meter-values.js';
import type { GridActivation } from '../grid/activation-log.js';
import { connectorStatus, type ConnectorView, type StorageProblem } from '../ocpp/model/connector-status.js';
import type { FaultHistoryEntry } from '../safety/fault-log.js';
import type { Fault } from '../safety/faults.js';
import { FIRMWARE_VERSION } from '../version.js';
import { currentSample, type Sample } from './samples.js';

export interface StatusView {
  readonly time: string;
  readonly firmwareVersion: string;
  /** The connector status of CONTRACT §5 (also without OCPP: a plugged car counts as a session). */
  readonly connector: ConnectorView;
  readonly charging: {
    readonly cp: ChargingStatus['cp'];
    readonly pilot: ChargingStatus['pilot']['mode'];
    readonly offeredA: number;
    /** min() of the limits, and the input that sets it (hardware, cable, modbus, ocpp, grid). */
    readonly limitA: number;
    readonly limitedBy: ChargingStatus['offer']['limitedBy'];
    readonly pausedBy: ChargingStatus['offer']['pausedBy'];
    readonly userPaused: boolean;
    readonly cableA: number | null;
    readonly phases: number;
    readonly contactorClosed: boolean;
    readonly locked: boolean;
    readonly interruption: ChargingStatus['interruption'];
  };
  readonly meter: {
    readonly energyWh: number;
    readonly powerW: number;
    readonly currentsA: readonly number[];
    readonly voltagesV: readonly number[];
    readonly lost: boolean;
  } | null;
  readonly modbus: ReturnType<Firmware['modbus']['energyManager']>;
  readonly ocpp: {
    readonly url: string;
    readonly chargeBoxId: string;
    readonly bootState: string;
    readonly online: boolean;
    /** `ocpp.offlineLimitA` applies: the central system has been unreachable for `ocpp.offlineAfterS`. */
    readonly offlineLimitActive: boolean;
    readonly transaction: {
      readonly transactionId: number | null;
      readonly idTag: string;
      readonly startedAt: string;
      readonly meterStartWh: number;
      readonly energyWh: number;
    } | null;
    readonly queued: number;
    readonly deadLetters: number;
  } | null;
  /** The calibration-law meter whose signed records OCPP transactions carry, with its public key (CONTRACT §9); null: none. */
  readonly signedMeter: SignedMeterStatus | null;
  /** The MQTT connection (CONTRACT §8); null without `mqtt` in the config. */
  readonly mqtt: { readonly connected: boolean; readonly topicPrefix: string } | null;
  readonly faults: ReadonlyArray<Fault & { readonly since: string }>;
  readonly faultHistory: ReadonlyArray<FaultHistoryEntry & { readonly since: string }>;
  /** The grid operator's signal (§14a EnWG) limits the current now. */
  readonly gridLimited: boolean;
  /** The activation in force (start, limit), null when none. */
  readonly gridActivation: GridActivation | null;
  /** State files that could not be read back or written, with the safe side taken for each. */
  readonly storage: readonly StorageProblem[];
  /** The chart's point for now. */
  readonly sample: Sample;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** What `GET /api/status` and the live stream show: one read of the firmware's state. */
export function statusView(firmware: Firmware, userPaused: boolean, nowMs: number): StatusView {
  const charging = firmware.charging.status();
  const cp = firmware.chargePoint;
  const plugged = charging.cp !== null && charging.cp !== 'A';
  const connector =
    cp?.connectorView() ??
    connectorStatus({ charging, transactionRunning: plugged, finishing: false, inoperative: false, reserved: false });
  const tx = cp?.transactions.transaction ?? null;
  const meter = charging.meter;
  return {
    time: iso(nowMs),
    firmwareVersion: FIRMWARE_VERSION,
    connector,
    charging: {
      cp: charging.cp,
      pilot: charging.pilot.mode,
      offeredA: charging.offeredA,
      limitA: charging.offer.limitA,
      limitedBy: charging.offer.limitedBy,
      pausedBy: charging.offer.pausedBy,
      userPaused,
      cableA: charging.cableA,
      phases: charging.phases,
      contactorClosed: charging.contactorClosed,
      locked: charging.locked,
      interruption: charging.interruption,
    },
    meter: meter && {
      energyWh: meter.energyWh,
      powerW: meter.powerW,
      currentsA: meter.currentsA,
      voltagesV: meter.voltagesV,
      lost: charging.faults.some((f) => f.kind === 'meterLost'),
    },
    modbus: firmware.modbus.energyManager(),
    ocpp: cp && {
      url: cp.settings.url,
      chargeBoxId: cp.settings.chargeBoxId,
      bootState: cp.bootState,
      online: cp.online,
      offlineLimitActive: cp.offlineLimitActive,
      transaction: tx && {
        transactionId: tx.transactionId,
        idTag: tx.idTag,
        startedAt: tx.startedAt,
        meterStartWh: tx.meterStartWh,
        energyWh: Math.max(0, Math.round((meter?.energyWh ?? tx.meterStartWh) - tx.meterStartWh)),
      },
      ...cp.queueState,
    },
    signedMeter: cp?.signedMeter ?? null,
    mqtt: firmware.mqtt && { connected: firmware.mqtt.connected, topicPrefix: firmware.mqtt.topics.prefix },
    faults: charging.faults.map((f) => ({ ...f, since: iso(f.sinceMs) })),
    faultHistory: firmware.charging.faultHistory().map((f) => ({ ...f, since: iso(f.sinceMs) })),
    gridLimited: charging.grid?.active ?? false,
    gridActivation: firmware.gridLog.current(),
    storage: firmware.storageProblems(),
    sample: currentSample(firmware.charging, nowMs),
  };
}

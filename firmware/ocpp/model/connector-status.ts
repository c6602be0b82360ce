import type { ChargingStatus } from '../../charging/controller.js';
import { blocksCharging, OCPP_ERROR_CODE, OCPP_ERROR_INFO } from '../../safety/faults.js';
import type { RequestOf } from '../messages.js';

/** OCPP 1.6 ChargePointErrorCode. */
export type ChargePointErrorCode = RequestOf<'StatusNotification'>['errorCode'];

export type ConnectorStatus =
  'Available' | 'Preparing' | 'Charging' | 'SuspendedEV' | 'SuspendedEVSE' | 'Finishing' | 'Reserved' | 'Unavailable' | 'Faulted';

export interface ConnectorView {
  readonly status: ConnectorStatus;
  /** An OCPP ChargePointErrorCode; NoError unless a fault is in force. */
  readonly errorCode: ChargePointErrorCode;
  /** StatusNotification `info`, where the error code alone does not say what is wrong. */
  readonly info?: string;
}

export interface ConnectorSituation {
  readonly charging: ChargingStatus;
  readonly transactionRunning: boolean;
  /** A transaction ended and the car has not been unplugged since. */
  readonly finishing: boolean;
  /** ChangeAvailability Inoperative is in force (or scheduled). */
  readonly inoperative: boolean;
  readonly reserved: boolean;
}

/** Below this the car counts as drawing nothing (SuspendedEV). */
const DRAWING_A = 0.5;

/** CONTRACT §5's connector status table as a pure function. */
export function connectorStatus(s: ConnectorSituation): ConnectorView {
  const { charging } = s;
  const blocking = charging.faults.find((f) => blocksCharging(f.kind));
  if (blocking) {
    const info = OCPP_ERROR_INFO[blocking.kind];
    return { status: 'Faulted', errorCode: OCPP_ERROR_CODE[blocking.kind], ...(info !== undefined && { info }) };
  }
  // A lost meter is reported with the status charging goes on with.
  const errorCode = charging.faults.some((f) => f.kind === 'meterLost') ? OCPP_ERROR_CODE.meterLost : 'NoError';
  const plugged = charging.cp !== null && charging.cp !== 'A';
  if (s.transactionRunning) {
    const pwm = charging.pilot.mode === 'pwm';
    if (!pwm || charging.offer.pausedBy !== null) return { status: 'SuspendedEVSE', errorCode };
    const drawing = charging.meter === null || Math.max(...charging.meter.currentsA) >= DRAWING_A;
    if (charging.contactorClosed && (charging.cp === 'C' || charging.cp === 'D') && drawing) return { status: 'Charging', errorCode };
    // PWM on, car in C but the contactor still open: minOffS holds it back.
    if ((charging.cp === 'C' || charging.cp === 'D') && !charging.contactorClosed) return { status: 'SuspendedEVSE', errorCode };
    return { status: 'SuspendedEV', errorCode };
  }
  if (s.inoperative) return { status: 'Unavailable', errorCode };
  if (plugged) return { status: s.finishing ? 'Finishing' : 'Preparing', errorCode };
  return { status: s.reserved ? 'Reserved' : 'Available', errorCode };
}

/** A state file problem (README: Damaged files) the status carries, and how it is reported. */
export interface StorageProblem {
  readonly file: string;
  /** Why it could not be read or written. */
  readonly problem: string;
  /** What the firmware does about it. */
  readonly safeSide: string;
  /** StatusNotification `info` (at most 50 characters). */
  readonly info: string;
}

/**
 * A storage problem is reported with the status it comes with, as errorCode InternalError and the
 * problem as `info`, unless a fault already names its own error code.
 */
export function withStorageProblem(info: string | null, view: ConnectorView): ConnectorView {
  if (info === null || view.errorCode !== 'NoError') return view;
  return { ...view, errorCode: 'InternalError', info };
}

import type { StatusView } from '../http/status-view.js';
import type { ConnectorStatus } from '../ocpp/model/connector-status.js';

/** CONTRACT §8: the JSON of `P/status`, read from the same status the HTTP API shows. */
export interface MqttStatus {
  /** The car's state on the control pilot, A..F (null before the first reading). */
  readonly cp: StatusView['charging']['cp'];
  /** The OCPP connector status of CONTRACT §5, also without OCPP. */
  readonly status: ConnectorStatus;
  /** The OCPP error code with it (NoError unless a fault is in force). */
  readonly errorCode: string;
  readonly offeredCurrentA: number;
  readonly limitedBy: StatusView['charging']['limitedBy'];
  readonly pausedBy: StatusView['charging']['pausedBy'];
  readonly contactor: 'closed' | 'open';
  readonly phases: number;
  /** null: no meter, or the meter is lost (CONTRACT §6: nothing invented). */
  readonly powerW: number | null;
  readonly energyWh: number | null;
  readonly currentsA: readonly number[] | null;
  /** The energy manager's inputs as written (Modbus 8093 / 8094 or MQTT set/limit, set/enable). */
  readonly energyManager: { readonly limitA: number; readonly enabled: boolean };
  /** The OCPP link: off (not configured), online, offline. */
  readonly ocpp: 'off' | 'online' | 'offline';
  readonly transaction: {
    readonly transactionId: number | null;
    readonly idTag: string;
    readonly startedAt: string;
    readonly energyWh: number;
  } | null;
  readonly faults: ReadonlyArray<{ readonly kind: string; readonly since: string }>;
  /** The grid operator's limit (§14a EnWG) in force. */
  readonly gridLimited: boolean;
}

const round = (value: number, decimals: number): number => Number(value.toFixed(decimals));

/** The `P/status` payload for `view`; no time stamp in it, so equal states give equal payloads. */
export function statusPayload(view: StatusView): MqttStatus {
  const { charging, meter, ocpp } = view;
  const live = meter !== null && !meter.lost;
  const tx = ocpp?.transaction ?? null;
  return {
    cp: charging.cp,
    status: view.connector.status,
    errorCode: view.connector.errorCode,
    offeredCurrentA: charging.offeredA,
    limitedBy: charging.limitedBy,
    pausedBy: charging.pausedBy,
    contactor: charging.contactorClosed ? 'closed' : 'open',
    phases: charging.phases,
    powerW: live ? Math.round(meter.powerW) : null,
    energyWh: meter === null ? null : Math.round(meter.energyWh),
    currentsA: live ? meter.currentsA.map((a) => round(a, 1)) : null,
    energyManager: { limitA: view.modbus.limitA, enabled: view.modbus.enabled },
    ocpp: ocpp === null ? 'off' : ocpp.online ? 'online' : 'offline',
    transaction: tx && { transactionId: tx.transactionId, idTag: tx.idTag, startedAt: tx.startedAt, energyWh: tx.energyWh },
    faults: view.faults.map((f) => ({ kind: f.kind, since: f.since })),
    gridLimited: view.gridLimited,
  };
}

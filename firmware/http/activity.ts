import { every, type Clock } from '../../hal/clock.js';
import type { ChargingStatus } from '../charging/controller.js';
import type { ChargePoint } from '../ocpp/charge-point.js';
import type { Firmware } from '../firmware.js';
import type { EventRing } from './events.js';
import type { TransactionHistory } from './history.js';

/** How often the OCPP link is looked at for up/down events (it has no listener of its own). */
const OCPP_WATCH_MS = 1000;

interface LocalSession {
  readonly startedAt: string;
  readonly meterStartWh: number;
}

/**
 * Turns what the firmware does into the recent events and the transaction history: CP state,
 * contactor and fault changes, the OCPP link going up or down, transactions ending. Without OCPP
 * a plug-in to unplug counts as one session in the history (its energy from the meter).
 */
export class Activity {
  readonly #firmware: Firmware;
  readonly #clock: Clock;
  readonly #events: EventRing;
  readonly #history: TransactionHistory;
  #last: ChargingStatus | null = null;
  #online: boolean | null = null;
  #offlineLimit = false;
  #watched: ChargePoint | null = null;
  #session: LocalSession | null = null;
  #unsubscribe: (() => void) | null = null;
  #stopWatch: (() => void) | null = null;

  constructor(firmware: Firmware, clock: Clock, events: EventRing, history: TransactionHistory) {
    this.#firmware = firmware;
    this.#clock = clock;
    this.#events = events;
    this.#history = history;
    firmware.onTransactionEnded((ended) => {
      history.add({
        source: 'ocpp',
        transactionId: ended.transactionId,
        idTag: ended.idTag,
        startedAt: ended.startedAt,
        stoppedAt: ended.stoppedAt,
        meterStartWh: ended.meterStartWh,
        meterStopWh: ended.meterStopWh,
        reason: ended.reason,
      });
      events.add(
        'ocpp',
        `transaction ${ended.transactionId ?? `(local ${ended.localId})`} ended: ${ended.reason}, ${ended.meterStopWh - ended.meterStartWh} Wh`,
      );
    });
  }

  start(): void {
    this.#changed(this.#firmware.charging.status());
    this.#unsubscribe = this.#firmware.charging.onChange((status) => this.#changed(status));
    this.#watchOcpp();
    this.#stopWatch = every(this.#clock, OCPP_WATCH_MS, () => this.#watchOcpp());
  }

  /** The firmware stops: a local session still open is recorded as ended by the stop. */
  stop(): void {
    this.#unsubscribe?.();
    this.#stopWatch?.();
    this.#endSession('Reboot', this.#firmware.charging.status());
  }

  #changed(status: ChargingStatus): void {
    const last = this.#last;
    this.#last = status;
    if (status.cp !== last?.cp && status.cp !== null) {
      this.#events.add('charging', `car state ${status.cp}${last?.cp ? ` (was ${last.cp})` : ''}`);
      if (status.cp === 'A') this.#endSession('EVDisconnected', status);
      else if (this.#session === null && this.#firmware.chargePoint === null) {
        this.#session = { startedAt: new Date(this.#clock.now()).toISOString(), meterStartWh: Math.round(status.meter?.energyWh ?? 0) };
      }
    }
    if (last !== null && status.contactorClosed !== last.contactorClosed)
      this.#events.add('charging', status.contactorClosed ? `contactor closed, ${status.offeredA} A offered` : 'contactor open');
    const before = new Set(last?.faults.map((f) => f.kind) ?? []);
    const now = new Set(status.faults.map((f) => f.kind));
    for (const f of status.faults) if (!before.has(f.kind)) this.#events.add('fault', `fault ${f.kind}: ${f.cause}`);
    for (const kind of before) if (!now.has(kind)) this.#events.add('fault', `fault ${kind} ended`);
    this.#gridChanged(last?.grid ?? null, status.grid);
  }

  /** The grid operator's signal: its start with the limit, each other limit it applies (a phase switch), its end. */
  #gridChanged(last: ChargingStatus['grid'], grid: ChargingStatus['grid']): void {
    if (grid === null) return;
    const limit = `${grid.limitW} W = ${grid.limitA?.toFixed(1) ?? '?'} A`;
    if (grid.active && last?.active !== true) this.#events.add('grid', `grid operator limit active (§14a EnWG): ${limit}`);
    else if (grid.active && grid.limitA !== last?.limitA) this.#events.add('grid', `grid operator limit now ${limit} (phases switched)`);
    else if (!grid.active && last?.active === true) this.#events.add('grid', 'grid operator limit ended');
  }

  #endSession(reason: string, status: ChargingStatus): void {
    const session = this.#session;
    this.#session = null;
    if (session === null || this.#firmware.chargePoint !== null) return;
    const meterStopWh = Math.round(status.meter?.energyWh ?? session.meterStartWh);
    this.#history.add({
      source: 'local',
      transactionId: null,
      idTag: null,
      startedAt: session.startedAt,
      stoppedAt: new Date(this.#clock.now()).toISOString(),
      meterStartWh: session.meterStartWh,
      meterStopWh,
      reason,
    });
  }

  #watchOcpp(): void {
    const cp = this.#firmware.chargePoint;
    // New settings make a new charge point: its link is news even if the old one was up too.
    if (cp !== this.#watched) {
      this.#watched = cp;
      this.#online = null;
    }
    const offlineLimit = cp?.offlineLimitActive ?? false;
    if (offlineLimit !== this.#offlineLimit)
      this.#events.add(
        'ocpp',
        offlineLimit ? `central system unreachable for ocpp.offlineAfterS: the OCPP offline limit applies` : 'the OCPP offline limit ends',
      );
    this.#offlineLimit = offlineLimit;
    const online = cp === null ? null : cp.online;
    if (online === this.#online) return;
    if (online !== null) this.#events.add('ocpp', online ? `OCPP connected to ${cp?.link.target.url ?? ''}` : 'OCPP link down');
    this.#online = online;
  }
}

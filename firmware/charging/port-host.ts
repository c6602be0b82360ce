import { every, type Clock } from '../../hal/clock.js';
import type { Logger } from '../log.js';
import type { FaultHistoryEntry } from '../safety/fault-log.js';
import type { ChargingController } from './controller.js';
import {
  ALIVE_PERIOD_MS,
  isToControl,
  STALE_AFTER_MS,
  type PortEndpoint,
  type PortSnapshot,
  type RequestMessage,
  type ToProtocol,
} from './port.js';
import { staleModbusInput, type ModbusFailsafe, type ModbusInput } from './stale-inputs.js';

/** How often the host looks for silence of the protocol side and for a new meter reading to pass on. */
const CHECK_PERIOD_MS = 100;

export interface PortHostOptions {
  readonly controller: ChargingController;
  readonly clock: Clock;
  readonly log: Logger;
  /** The Modbus watchdog settings the stale-input rule applies. */
  readonly modbusFailsafe: ModbusFailsafe;
}

/**
 * The control side's end of the charging port: applies the protocol side's messages to the
 * controller (each checked against its schema first), posts the status after every change (only
 * the latest, in order), and applies the stale-input rule when the protocol side falls silent for
 * STALE_AFTER_MS or goes away. While it is silent nothing is posted to it, so a stalled worker's
 * queue cannot grow; it gets the latest status when it speaks again.
 */
export class ChargingPortHost {
  readonly #controller: ChargingController;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #failsafe: ModbusFailsafe;
  readonly #stopTimers: Array<() => void>;
  readonly #unsubscribe: () => void;
  #endpoint: PortEndpoint | null = null;
  #listener: ((message: unknown) => void) | null = null;
  #lastSeenMs = 0;
  #stale = true;
  /** The attached side has sent a message. */
  #heard = false;
  #lastModbus: ModbusInput | null = null;
  #sentKey = '';
  #sentHistory: readonly FaultHistoryEntry[] | null = null;

  constructor(options: PortHostOptions) {
    this.#controller = options.controller;
    this.#clock = options.clock;
    this.#log = options.log.child({ module: 'charging-port' });
    this.#failsafe = options.modbusFailsafe;
    this.#unsubscribe = this.#controller.onChange(() => this.#postSnapshot());
    this.#stopTimers = [
      every(this.#clock, CHECK_PERIOD_MS, () => this.#check()),
      every(this.#clock, ALIVE_PERIOD_MS, () => this.#post({ type: 'alive', lastPassMs: this.#controller.lastPassMs })),
    ];
  }

  /** Clock time of the last message of the protocol side (0: none yet). */
  get lastHeardMs(): number {
    return this.#lastSeenMs;
  }

  /** Whether the protocol side's inputs are stale now (silent too long, or no protocol side). */
  get stale(): boolean {
    return this.#stale;
  }

  /**
   * A (new) protocol side on `endpoint`: its inputs start as at boot (resetProtocolInputs). Until
   * its first message (it may take seconds to load) the rule that held before stays, and nothing
   * is posted; its first message gets it the status. A previous endpoint is detached.
   */
  attach(endpoint: PortEndpoint): void {
    this.detach();
    this.#endpoint = endpoint;
    this.#listener = (message) => this.#received(message);
    endpoint.on('message', this.#listener);
    this.#controller.resetProtocolInputs();
    this.#lastModbus = null;
    this.#heard = false;
  }

  /** The protocol side is gone (its worker ended): the stale rule holds at once, until the next attach. */
  detach(): void {
    if (this.#endpoint !== null && this.#listener !== null) this.#endpoint.off('message', this.#listener);
    this.#endpoint = null;
    this.#listener = null;
    this.#goStale('protocol side gone');
  }

  close(): void {
    this.detach();
    this.#unsubscribe();
    for (const stop of this.#stopTimers) stop();
  }

  #received(message: unknown): void {
    if (!isToControl(message)) {
      this.#log.error('message from the protocol side refused', {
        type: typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : typeof message,
      });
      return;
    }
    this.#lastSeenMs = this.#clock.now();
    if (this.#stale) this.#backToLife();
    switch (message.type) {
      case 'alive':
        return;
      case 'call':
        if (message.name === 'setModbusLimit') this.#lastModbus = { limitA: message.args[0], enabled: message.args[1] };
        Reflect.apply(this.#controller[message.name], this.#controller, message.args);
        this.#postSnapshot();
        return;
      case 'request':
        void this.#answer(message);
        return;
      default: {
        const never: never = message;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  async #answer(request: RequestMessage): Promise<void> {
    const endpoint = this.#endpoint;
    let reply: ToProtocol;
    try {
      const result: unknown = await Reflect.apply(this.#controller[request.name], this.#controller, request.args);
      reply = { type: 'reply', id: request.id, ok: true, result: result ?? null };
    } catch (err) {
      reply = { type: 'reply', id: request.id, ok: false, error: (err as Error).message };
    }
    // Only to the side that asked, after the status that shows the request's effect.
    if (endpoint !== this.#endpoint) return;
    this.#postSnapshot();
    this.#post(reply);
  }

  #check(): void {
    if (!this.#stale && this.#clock.now() - this.#lastSeenMs > STALE_AFTER_MS) this.#goStale('protocol side silent');
    this.#postSnapshot();
  }

  #goStale(why: string): void {
    if (this.#stale) return;
    this.#stale = true;
    const input = staleModbusInput(this.#lastModbus, this.#failsafe);
    this.#log.warn(`${why}: its Modbus and OCPP inputs are stale`, {
      silentMs: this.#clock.now() - this.#lastSeenMs,
      modbusLimitA: input?.limitA ?? this.#lastModbus?.limitA ?? null,
    });
    if (input !== null) this.#controller.setModbusLimit(input.limitA, input.enabled);
  }

  #backToLife(): void {
    this.#stale = false;
    if (this.#heard) this.#log.info('protocol side alive again: its inputs apply');
    this.#heard = true;
    if (this.#lastModbus !== null) this.#controller.setModbusLimit(this.#lastModbus.limitA, this.#lastModbus.enabled);
    this.#sentKey = '';
    this.#sentHistory = null;
    this.#postSnapshot();
  }

  /** Posts what the protocol side reads when anything in it changed (the meter reading included). */
  #postSnapshot(): void {
    if (this.#endpoint === null || this.#stale) return;
    const controller = this.#controller;
    const status = controller.status();
    const phaseSelection = controller.phaseSelection();
    const key = JSON.stringify([status, phaseSelection]);
    const history = controller.faultHistory();
    if (key === this.#sentKey && history === this.#sentHistory) return;
    this.#sentKey = key;
    const faultHistory = history === this.#sentHistory ? null : history;
    this.#sentHistory = history;
    const snapshot: PortSnapshot = {
      status,
      phaseSelection,
      phaseSwitchingEnabled: controller.phaseSwitchingEnabled,
      lastPassMs: controller.lastPassMs,
      faultHistory,
    };
    this.#post({ type: 'snapshot', snapshot });
  }

  #post(message: ToProtocol): void {
    if (this.#endpoint === null || this.#stale) return;
    this.#endpoint.postMessage(message);
  }
}

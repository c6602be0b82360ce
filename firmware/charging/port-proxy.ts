import { every, type Clock } from '../../hal/clock.js';
import type { Identification, SigningMeterIdentity } from '../../hal/meter.js';
import type { PhaseCount } from '../../hal/phase-relay.js';
import type { Logger } from '../log.js';
import { PendingRequests } from '../request-reply.js';
import type { FaultHistoryEntry } from '../safety/fault-log.js';
import type { ChargingStatus, UnlockResult } from './controller.js';
import {
  ALIVE_PERIOD_MS,
  isRequestResult,
  isToProtocol,
  STALE_AFTER_MS,
  type ChargingPort,
  type PortEndpoint,
  type PortRequestArgs,
  type PortRequestName,
  type PortRequestResult,
  type PortSnapshot,
  type ToControl,
  type ToProtocol,
} from './port.js';

/** Longest wait for a reply: an unlock takes a few seconds at most (STOP_GRACE_MS + lock detection). */
const REQUEST_TIMEOUT_MS = 30_000;
/** Requests in flight at most; more are refused at once rather than queued without end. */
const MAX_PENDING_REQUESTS = 32;

export interface PortProxyOptions {
  readonly endpoint: PortEndpoint;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * The protocol side's charging core: inputs go to the control side as messages, reads answer from
 * the latest status it sent. It shows it is alive every ALIVE_PERIOD_MS, and logs when the control
 * side has been silent for STALE_AFTER_MS (`lastPassMs`, which the health check reads, then ages).
 */
export class ChargingPortProxy implements ChargingPort {
  readonly #endpoint: PortEndpoint;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #listeners = new Set<(status: ChargingStatus) => void>();
  readonly #pending: PendingRequests<number>;
  readonly #stopAlive: () => void;
  readonly #listener = (message: unknown): void => this.#received(message);
  readonly ready: Promise<void>;
  #ready: () => void = () => {};
  #snapshot: PortSnapshot | null = null;
  /** A phase request on its way to the control side: what 8087 reads back until its snapshot is here. */
  #requestedPhases: PhaseCount | null = null;
  #faultHistory: readonly FaultHistoryEntry[] = [];
  #notifiedKey = '';
  #lastPassMs: number | null = null;
  #heardAtMs: number;
  #controlSilent = false;

  constructor(options: PortProxyOptions) {
    this.#endpoint = options.endpoint;
    this.#clock = options.clock;
    this.#log = options.log.child({ module: 'charging-port' });
    this.#heardAtMs = this.#clock.now();
    let nextId = 0;
    this.#pending = new PendingRequests({
      clock: this.#clock,
      timeoutMs: REQUEST_TIMEOUT_MS,
      maxPending: MAX_PENDING_REQUESTS,
      full: (name) => new Error(`${name}: too many requests to the charging core in flight`),
      nextId: () => nextId++,
    });
    this.ready = new Promise((resolve) => (this.#ready = resolve));
    this.#endpoint.on('message', this.#listener);
    this.#stopAlive = every(this.#clock, ALIVE_PERIOD_MS, () => this.#alive());
    // The first sign of life at once: the control side answers it with the status (ready).
    this.#send({ type: 'alive' });
  }

  close(): void {
    this.#stopAlive();
    this.#endpoint.off('message', this.#listener);
    this.#pending.failAll(new Error('the charging port closed'));
  }

  setModbusLimit(limitA: number, enabled: boolean): void {
    this.#send({ type: 'call', name: 'setModbusLimit', args: [limitA, enabled] });
  }

  setOcppLimit(limitA: number | null): void {
    this.#send({ type: 'call', name: 'setOcppLimit', args: [limitA] });
  }

  setOcppAllowed(allowed: boolean): void {
    this.#send({ type: 'call', name: 'setOcppAllowed', args: [allowed] });
  }

  setUserPaused(paused: boolean): void {
    this.#send({ type: 'call', name: 'setUserPaused', args: [paused] });
  }

  setStoragePaused(paused: boolean): void {
    this.#send({ type: 'call', name: 'setStoragePaused', args: [paused] });
  }

  setOcppConfigured(configured: boolean): void {
    this.#send({ type: 'call', name: 'setOcppConfigured', args: [configured] });
  }

  /** Answers as the controller will: refused while a disconnect or phase switch runs. */
  requestCpDisconnect(seconds: number): boolean {
    if (this.status().interruption !== null) return false;
    this.#send({ type: 'call', name: 'requestCpDisconnect', args: [seconds] });
    return true;
  }

  requestPhases(phases: PhaseCount): boolean {
    if (!this.phaseSwitchingEnabled) return false;
    this.#send({ type: 'call', name: 'requestPhases', args: [phases] });
    // The control side posts the snapshot showing it before it answers `settled`.
    this.#requestedPhases = phases;
    const shown = (): void => {
      if (this.#requestedPhases === phases) this.#requestedPhases = null;
    };
    void this.settled().then(shown, shown);
    return true;
  }

  unlockConnector(): Promise<UnlockResult> {
    return this.#request('unlockConnector', []);
  }

  clearFaults(): Promise<void> {
    return this.#request('clearFaults', []);
  }

  settled(): Promise<void> {
    return this.#request('settled', []);
  }

  meterIdentity(): Promise<SigningMeterIdentity> {
    return this.#request('meterIdentity', []);
  }

  beginMeterTransaction(identification: Identification): Promise<string> {
    return this.#request('beginMeterTransaction', [identification]);
  }

  endMeterTransaction(): Promise<string | null> {
    return this.#request('endMeterTransaction', []);
  }

  status(): ChargingStatus {
    return this.#current().status;
  }

  faultHistory(): readonly FaultHistoryEntry[] {
    return this.#faultHistory;
  }

  phaseSelection(): PhaseCount {
    return this.#requestedPhases ?? this.#current().phaseSelection;
  }

  get phaseSwitchingEnabled(): boolean {
    return this.#current().phaseSwitchingEnabled;
  }

  get lastPassMs(): number | null {
    return this.#lastPassMs;
  }

  onChange(listener: (status: ChargingStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #current(): PortSnapshot {
    if (this.#snapshot === null) throw new Error('the charging port is not ready: await ready first');
    return this.#snapshot;
  }

  #request<K extends PortRequestName>(name: K, args: PortRequestArgs<K>): Promise<PortRequestResult<K>> {
    return this.#pending.request({
      label: name,
      send: (id) => this.#send({ type: 'request', id, name, args } as ToControl),
      check: (result) =>
        isRequestResult(name, result)
          ? { ok: true, value: result }
          : { ok: false, error: new Error(`${name}: the charging core answered with an unexpected result`) },
      timedOut: () => new Error(`${name}: the charging core did not answer`),
    });
  }

  #send(message: ToControl): void {
    this.#endpoint.postMessage(message);
  }

  #alive(): void {
    this.#send({ type: 'alive' });
    const silentMs = this.#clock.now() - this.#heardAtMs;
    if (!this.#controlSilent && silentMs > STALE_AFTER_MS) {
      this.#controlSilent = true;
      this.#log.error('the control side is silent', { silentMs });
    }
  }

  #received(message: unknown): void {
    if (!isToProtocol(message)) {
      this.#log.error('message from the control side not understood');
      return;
    }
    this.#heardAtMs = this.#clock.now();
    if (this.#controlSilent) {
      this.#controlSilent = false;
      this.#log.info('the control side speaks again');
    }
    this.#apply(message);
  }

  #apply(message: ToProtocol): void {
    switch (message.type) {
      case 'alive':
        this.#lastPassMs = message.lastPassMs;
        return;
      case 'snapshot':
        this.#snapshotReceived(message.snapshot);
        return;
      case 'reply':
        if (message.ok) this.#pending.reply(message.id, message.result);
        // The control side's own reason, as the same call in-process would reject with it.
        else this.#pending.fail(message.id, new Error(message.error));
        return;
      default: {
        const never: never = message;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  /** Like the controller, tells the listeners only when anything but the meter changed. */
  #snapshotReceived(snapshot: PortSnapshot): void {
    const first = this.#snapshot === null;
    this.#snapshot = snapshot;
    this.#lastPassMs = snapshot.lastPassMs;
    if (snapshot.faultHistory !== null) this.#faultHistory = snapshot.faultHistory;
    if (first) this.#ready();
    const key = JSON.stringify({ ...snapshot.status, meter: null });
    if (key === this.#notifiedKey) return;
    this.#notifiedKey = key;
    for (const listener of this.#listeners) listener(snapshot.status);
  }
}

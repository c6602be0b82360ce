import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { BootState, BootStatus } from './boot-status.js';
import type { LinkFailure, LinkTarget, OcppConnection, RpcPort } from './connection.js';
import type { Logger } from '../log.js';
import type { OcppConfiguration } from './model/configuration.js';
import type { OfflineLimit } from './offline-limit.js';
import type { OcppTime } from './ocpp-clock.js';
import * as BootNotification from './operations/BootNotification.js';
import * as Heartbeat from './operations/Heartbeat.js';
import type { OcppRpc } from './rpc.js';

export type { BootState, RpcPort };

export interface ChargePointIdentity {
  readonly vendor: string;
  readonly model: string;
  readonly serialNumber: string;
  readonly firmwareVersion: string;
}

/** What the transport tells the session. */
export interface LinkEvents {
  /** The link is up and speaks the protocol. */
  readonly onOpen: () => void;
  readonly onClose: () => void;
  /** An attempt failed before the link opened: the central system is unreachable for now. */
  readonly onUnreachable: (failure: LinkFailure, target: LinkTarget) => void;
}

/** The transport as the session and the security profile drive it (production: the WebSocket connection). */
export type Link = Pick<
  OcppConnection,
  'start' | 'stop' | 'reconnect' | 'linkProven' | 'pingIntervalChanged' | 'retarget' | 'target' | 'open'
>;

/**
 * Makes the link that tells `events` and carries the frames of `rpc`: the seam where production
 * puts its WebSocket and a test an in-memory loopback to an in-process central system.
 */
export type Connector = (events: LinkEvents, rpc: RpcPort) => Link;

/** Retry after a failed or unanswered BootNotification when the backend gave no interval. */
const BOOT_RETRY_MS = 30_000;

export interface SessionOptions {
  readonly rpc: OcppRpc;
  /** Where BootNotification stands: this session writes it. */
  readonly boot: BootStatus;
  readonly clock: Clock;
  readonly log: Logger;
  readonly configuration: OcppConfiguration;
  readonly identity: ChargePointIdentity;
  readonly time: OcppTime;
  /** Null without `ocpp.offlineLimitA`. */
  readonly offlineLimit: OfflineLimit | null;
  /** The signing meter's type and serial number for BootNotification; null when the meter does not sign. */
  readonly meterIdentity: () => Promise<BootNotification.MeterIdentity | null>;
  /** Makes the link. */
  readonly connect: Connector;
  /** The link opened: what must happen before the BootNotification (the security profile's checks). */
  readonly beforeBoot: () => Promise<void>;
  /** The link closed, or an attempt failed: the central system is unreachable for now. */
  readonly onUnreachable: (failure: LinkFailure | null, target: LinkTarget | null) => void;
  /** Boot is Accepted (first time or again), or the link came back after it was: what waited goes out. */
  readonly onAccepted: (firstTime: boolean) => void;
}

/**
 * The OCPP session over the link: BootNotification (nothing else until Accepted, retried at the
 * interval the central system gives), Heartbeat at HeartbeatInterval as the link's watchdog, and
 * the time each of them brings.
 */
export class OcppSession {
  readonly #o: SessionOptions;
  /** The transport, made by the connector with this session's events. */
  readonly link: Link;
  #bootTimer: TimerHandle | null = null;
  #heartbeatTimer: TimerHandle | null = null;
  #stopped = false;

  constructor(options: SessionOptions) {
    this.#o = options;
    this.link = options.connect(
      {
        onOpen: () => void options.beforeBoot().then(() => this.linkUp()),
        onClose: () => {
          this.linkDown();
          options.onUnreachable(null, null);
        },
        onUnreachable: (failure, target) => options.onUnreachable(failure, target),
      },
      options.rpc,
    );
  }

  get state(): BootState {
    return this.#o.boot.state;
  }

  /** Boot Accepted and the link up: the central system can be told. */
  get online(): boolean {
    return this.#o.boot.online(this.#o.rpc);
  }

  /** The link opened: boot once per start (and after a reset); a reconnect after that resumes at once. */
  async linkUp(): Promise<void> {
    if (this.#o.boot.state !== 'Accepted') {
      await this.bootNotification();
      return;
    }
    this.scheduleHeartbeat();
    this.#o.onAccepted(false);
    // The offline countdown (or limit) ends only when the central system answers, not when a socket opens.
    if (this.#o.offlineLimit?.waiting === true) {
      this.heartbeat().catch((err: unknown) =>
        this.#o.log.warn('Heartbeat after the reconnect failed', { reason: (err as Error).message }),
      );
    }
  }

  linkDown(): void {
    this.#o.offlineLimit?.unreachable();
    if (this.#o.boot.state !== 'Accepted') this.#o.boot.state = 'none';
    this.#clearTimers();
  }

  /** A reset: the next link boots anew. */
  restart(): void {
    this.#o.boot.state = 'none';
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimers();
  }

  async heartbeat(): Promise<void> {
    const currentTime = await Heartbeat.send(this.#o);
    this.#o.offlineLimit?.reached();
    this.#o.time.take(currentTime);
  }

  async bootNotification(): Promise<void> {
    const { clock, identity, log } = this.#o;
    if (this.#bootTimer !== null) clock.clearTimeout(this.#bootTimer);
    this.#bootTimer = null;
    const meter = await this.#o.meterIdentity();
    try {
      const response = await BootNotification.send(this.#o, identity, meter);
      this.link.linkProven();
      this.#o.time.take(response.currentTime);
      this.#o.boot.state = response.status;
      log.info('BootNotification', { status: response.status, interval: response.interval });
      if (response.status === 'Accepted') {
        this.#o.offlineLimit?.reached();
        if (response.interval > 0) await this.#o.configuration.change('HeartbeatInterval', String(response.interval));
        this.scheduleHeartbeat();
        this.#o.onAccepted(true);
        return;
      }
      this.#retryBoot(response.interval > 0 ? response.interval * 1000 : BOOT_RETRY_MS);
    } catch (err) {
      log.warn('BootNotification failed', { reason: (err as Error).message });
      this.#retryBoot(BOOT_RETRY_MS);
    }
  }

  #retryBoot(delayMs: number): void {
    if (this.#stopped || !this.#o.rpc.connected) return;
    this.#bootTimer = this.#o.clock.setTimeout(() => void this.bootNotification(), delayMs);
  }

  /** The next Heartbeat after HeartbeatInterval; unanswered, the link is dead even if the socket says otherwise. */
  scheduleHeartbeat(): void {
    const { clock, configuration, log } = this.#o;
    const link = this.link;
    if (this.#heartbeatTimer !== null) clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
    if (!this.online) return;
    const intervalMs = configuration.integer('HeartbeatInterval') * 1000;
    this.#heartbeatTimer = clock.setTimeout(() => {
      this.heartbeat().then(
        () => {
          link.linkProven();
          this.scheduleHeartbeat();
        },
        (err: unknown) => {
          log.warn('Heartbeat failed', { reason: (err as Error).message });
          link.reconnect('heartbeat unanswered');
        },
      );
    }, intervalMs);
  }

  #clearTimers(): void {
    for (const timer of [this.#bootTimer, this.#heartbeatTimer]) if (timer !== null) this.#o.clock.clearTimeout(timer);
    this.#bootTimer = null;
    this.#heartbeatTimer = null;
  }
}

import type { ClientRequestArgs } from 'node:http';
import WebSocket from 'ws';
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Logger } from '../log.js';
import type { OcppRpc } from './rpc.js';
import type { OcppTlsOptions } from './tls.js';

/** The RPC endpoint as a transport drives it: frames out once attached, frames in, its peer log flushed at the end. */
export type RpcPort = Pick<OcppRpc, 'attach' | 'detach' | 'receive' | 'connected' | 'ignoreBinary' | 'flushLog'>;

export interface OcppConnectionOptions {
  /** `ocpp.url`; the charge box id is appended as the last path segment. */
  readonly url: string;
  readonly chargeBoxId: string;
  /** AuthorizationKey for Basic auth; "" = none. */
  readonly password: string;
  readonly rpc: RpcPort;
  readonly clock: Clock;
  readonly log: Logger;
  /** WebSocket ping period, s (the WebSocketPingInterval key, read at every ping); 0 = no pings. */
  readonly pingIntervalS: number | (() => number);
  /** First and longest pause between connection attempts. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** The link is up and speaks ocpp1.6. */
  readonly onOpen: () => void;
  readonly onClose: () => void;
  /** An attempt failed before the link opened: the backend is unreachable for now. */
  readonly onUnreachable?: (failure: LinkFailure, target: LinkTarget) => void;
  /** The random source of the backoff jitter (tests fix it). */
  readonly random?: () => number;
  /** For a `wss://` URL: CA, client certificate, verification (`ocppTlsOptions`). */
  readonly tls?: OcppTlsOptions;
}

export const SUBPROTOCOL = 'ocpp1.6';

/**
 * CONTRACT §10: frames over 1 MiB are refused; `ws` closes the link with 1009 (message too big)
 * instead of its 100 MiB default. The largest frame the box expects, a SendLocalList full of
 * entries, is far below it.
 */
export const OCPP_MAX_FRAME_BYTES = 1024 * 1024;
/**
 * What may wait in the link's send buffer: a central system that sends CALLs and does not read the
 * answers would otherwise grow it without end. Past it the link is dropped and reconnects.
 */
export const OCPP_MAX_SEND_BUFFER_BYTES = 1024 * 1024;

/** Where and how the link connects; the security profile decides it (`LinkSecurity`). */
export interface LinkTarget {
  readonly url: string;
  /** AuthorizationKey for Basic auth; "" = none. */
  readonly password: string;
  readonly tls?: OcppTlsOptions;
}

/** Why an attempt failed before the link opened: the error's text, its code, the HTTP status of a refused upgrade. */
export interface LinkFailure {
  readonly reason: string;
  readonly code?: string;
  readonly httpStatus?: number;
}

/** `url` + "/" + the charge box id, with one slash between them. */
export function endpointUrl(url: string, chargeBoxId: string): string {
  return `${url.replace(/\/+$/, '')}/${encodeURIComponent(chargeBoxId)}`;
}

/**
 * The WebSocket link to the central system. It refuses a server that does not agree to
 * `ocpp1.6`, reconnects with exponential backoff and jitter, and finds a dead link by ping/pong
 * (and the heartbeat watchdog of the charge point): a link that stays silent is terminated and
 * replaced, never left "connected".
 */
export class OcppConnection {
  readonly #options: OcppConnectionOptions;
  readonly #log: Logger;
  #socket: WebSocket | null = null;
  #attempt = 0;
  #retryTimer: TimerHandle | null = null;
  #pingTimer: TimerHandle | null = null;
  #lastHeardMs = 0;
  #stopped = true;
  #target: LinkTarget;
  /** Why the attempt under way failed, once its socket has said so. */
  #failure: LinkFailure | null = null;
  /** What the attempt under way connects to (the target may change meanwhile). */
  #attemptTarget: LinkTarget;

  constructor(options: OcppConnectionOptions) {
    this.#options = options;
    this.#log = options.log.child({ module: 'ocpp' });
    this.#target = { url: options.url, password: options.password, ...(options.tls !== undefined && { tls: options.tls }) };
    this.#attemptTarget = this.#target;
  }

  get target(): LinkTarget {
    return this.#target;
  }

  /**
   * Connects to `target` from now on. With a reason the link is closed (gracefully: an answer
   * still queued goes out first) and the next attempt comes soon; without one the next
   * connection uses it.
   */
  retarget(target: LinkTarget, reason: string | null): void {
    this.#target = target;
    if (reason === null || this.#stopped) return;
    this.#attempt = 0;
    const socket = this.#socket;
    if (socket !== null) {
      this.#log.warn('OCPP link replaced', { reason });
      void this.#closeGracefully(socket);
      return;
    }
    // Between attempts: the one waiting for its backoff goes now, with the new target.
    this.#clearTimers();
    this.#connect();
  }

  get open(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN && this.#options.rpc.connected;
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearTimers();
    this.#options.rpc.flushLog();
    const socket = this.#socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await this.#closeGracefully(socket);
  }

  /** A close frame after what is still queued (an answer already given); cut after 2 s without the peer's. */
  #closeGracefully(socket: WebSocket): Promise<void> {
    return new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close(1000);
      this.#options.clock.setTimeout(() => {
        socket.terminate();
        resolve();
      }, 2000);
    });
  }

  /** Drops the link now (a dead link found by the heartbeat, a reset); it reconnects by itself. */
  reconnect(reason: string): void {
    this.#log.warn('OCPP link replaced', { reason });
    this.#socket?.terminate();
  }

  #connect(): void {
    const { chargeBoxId } = this.#options;
    this.#attemptTarget = this.#target;
    const { url, password, tls } = this.#target;
    const headers: Record<string, string> = {};
    if (password !== '') headers['authorization'] = `Basic ${Buffer.from(`${chargeBoxId}:${password}`).toString('base64')}`;
    const endpoint = endpointUrl(url, chargeBoxId);
    this.#log.info('OCPP connecting', { url: endpoint, attempt: this.#attempt });
    // ws hands the TLS options, createConnection included, to Node's https.request.
    const socket = new WebSocket(endpoint, [SUBPROTOCOL], {
      headers,
      handshakeTimeout: 10_000,
      perMessageDeflate: false,
      maxPayload: OCPP_MAX_FRAME_BYTES,
      ...tls,
    } as WebSocket.ClientOptions & ClientRequestArgs);
    this.#socket = socket;
    this.#failure = null;
    socket.on('open', () => this.#opened(socket));
    socket.on('unexpected-response', (request, response) => {
      // A refused upgrade (401 for a wrong password): keep the status, then give up this attempt.
      this.#failure = { reason: `HTTP ${String(response.statusCode)}`, httpStatus: response.statusCode ?? 0 };
      request.destroy();
      socket.terminate();
    });
    socket.on('message', (data, isBinary) => {
      this.#lastHeardMs = this.#options.clock.now();
      if (isBinary) return this.#options.rpc.ignoreBinary();
      this.#options.rpc.receive(String(data));
    });
    socket.on('pong', () => (this.#lastHeardMs = this.#options.clock.now()));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#options.rpc.connected && this.#socket === socket) this.#log.warn('OCPP link error', { reason: err.message });
      else this.#failure ??= { reason: err.message, ...(err.code !== undefined && { code: err.code }) };
    });
    socket.on('close', (code) => this.#closed(socket, code));
  }

  #opened(socket: WebSocket): void {
    if (socket.protocol !== SUBPROTOCOL) {
      this.#log.error('central system did not agree to ocpp1.6; closing', { protocol: socket.protocol });
      socket.close(1002, 'ocpp1.6 required');
      return;
    }
    // The backoff is not reset here: a server that accepts and drops at once would get a
    // reconnect every second. It is reset once the link has proved itself (linkProven).
    this.#lastHeardMs = this.#options.clock.now();
    this.#options.rpc.attach({
      send: (text) => {
        socket.send(text);
        if (socket.bufferedAmount > OCPP_MAX_SEND_BUFFER_BYTES && socket.readyState === WebSocket.OPEN)
          this.reconnect(`the central system does not read: more than ${OCPP_MAX_SEND_BUFFER_BYTES} bytes unsent`);
      },
    });
    this.#log.info('OCPP connected');
    this.#schedulePing(socket);
    this.#options.onOpen();
  }

  #closed(socket: WebSocket, code: number): void {
    if (this.#socket !== socket) return;
    this.#socket = null;
    this.#clearTimers();
    const delayMs = this.#backoffMs();
    if (this.#options.rpc.connected) {
      this.#options.rpc.detach();
      this.#log.info('OCPP disconnected', { code });
      this.#options.onClose();
    } else {
      // One line per backoff step, whatever the socket said on the way.
      const failure = this.#failure ?? { reason: `closed (${String(code)})` };
      if (!this.#stopped) this.#log.warn('OCPP connection failed', { ...failure, attempt: this.#attempt, retryInMs: delayMs });
      this.#options.onUnreachable?.(failure, this.#attemptTarget);
    }
    if (this.#stopped) return;
    this.#attempt += 1;
    this.#retryTimer = this.#options.clock.setTimeout(() => {
      this.#retryTimer = null;
      if (!this.#stopped) this.#connect();
    }, delayMs);
  }

  /** Exponential backoff with "equal jitter": half fixed, half random, so a fleet does not reconnect in step. */
  #backoffMs(): number {
    const min = this.#options.minBackoffMs ?? 1000;
    const max = this.#options.maxBackoffMs ?? 120_000;
    const ceiling = Math.min(max, min * 2 ** this.#attempt);
    const random = this.#options.random ?? Math.random;
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  /** The central system answered on this link (BootNotification, Heartbeat): the next failure starts the backoff from its first step. */
  linkProven(): void {
    this.#attempt = 0;
  }

  /** WebSocketPingInterval changed: the next ping follows the new period from now. */
  pingIntervalChanged(): void {
    const socket = this.#socket;
    if (this.#pingTimer !== null) this.#options.clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = null;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return;
    // The silence allowed (two periods) counts from now, not from before the change.
    this.#lastHeardMs = this.#options.clock.now();
    this.#schedulePing(socket);
  }

  #schedulePing(socket: WebSocket): void {
    const { pingIntervalS } = this.#options;
    const intervalMs = (typeof pingIntervalS === 'function' ? pingIntervalS() : pingIntervalS) * 1000;
    if (intervalMs <= 0) return;
    this.#pingTimer = this.#options.clock.setTimeout(() => {
      this.#pingTimer = null;
      if (this.#socket !== socket || socket.readyState !== WebSocket.OPEN) return;
      // Nothing heard for two ping periods (no pong, no frame): the link is dead.
      if (this.#options.clock.now() - this.#lastHeardMs >= 2 * intervalMs) {
        this.reconnect('no pong');
        return;
      }
      socket.ping();
      this.#schedulePing(socket);
    }, intervalMs);
  }

  #clearTimers(): void {
    if (this.#retryTimer !== null) this.#options.clock.clearTimeout(this.#retryTimer);
    if (this.#pingTimer !== null) this.#options.clock.clearTimeout(this.#pingTimer);
    this.#retryTimer = null;
    this.#pingTimer = null;
  }
}

import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Logger } from '../log.js';

/** Answers one request PDU for a unit; null = no answer (unit not ours). */
export type PduHandler = (unitId: number, pdu: Buffer) => Promise<Buffer | null>;

/** The bounds of one connection (CONTRACT §10); the server's defaults are the contract's. */
export interface ConnectionLimits {
  /** No complete request for this long closes the connection. */
  readonly idleMs: number;
  /** A frame begun and not completed within this closes the connection. */
  readonly partialFrameMs: number;
  /** Request bytes not yet served plus reply bytes not yet taken by the kernel; past it the connection is closed. */
  readonly maxQueuedBytes: number;
}

const MBAP_HEADER = 7;
/**
 * Requests of one connection served before the others (and the timers) get their turn: a master
 * that pipelines thousands of requests in one read chunk would otherwise be served in one go,
 * as the loopback or LAN send buffer takes megabytes before `write()` says it is full.
 */
const FRAMES_PER_TURN = 8;
/** Unit id + the longest PDU (253 bytes). */
const MAX_LENGTH_FIELD = 254;

/**
 * One Modbus TCP connection: MBAP framing, answers in order, and the bounds an outsider must not
 * get past. A master that does not read its replies is not read either: once `socket.write()`
 * says the send buffer is full, no further request is served and the socket is paused until
 * 'drain', so a pipelining master can queue at most one read chunk and one send buffer here; a
 * connection holding more than `maxQueuedBytes` is closed. A connection is served a few requests
 * at a time, so that one pipelining master cannot hold the event loop. Both timers run on the
 * injected clock, as one timer per connection that wakes at the nearer deadline.
 */
export class MbapConnection {
  readonly #socket: Socket;
  readonly #handler: PduHandler;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #limits: ConnectionLimits;
  #buffer: Buffer = Buffer.alloc(0);
  #serving = false;
  /** Waiting for 'drain': the peer is not reading its replies. */
  #blocked = false;
  #timer: TimerHandle | null = null;
  #timerAtMs = 0;
  /** When the last complete request arrived (or the connection opened). */
  lastRequestMs: number;
  /** The connection has sent at least one complete request. */
  served = false;
  /** When the bytes of a frame not yet complete began to arrive; null = no partial frame. */
  #partialSinceMs: number | null = null;

  constructor(socket: Socket, handler: PduHandler, clock: Clock, limits: ConnectionLimits, log: Logger) {
    this.#socket = socket;
    this.#handler = handler;
    this.#clock = clock;
    this.#limits = limits;
    this.#log = log;
    this.lastRequestMs = clock.now();
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('drain', () => {
      this.#blocked = false;
      socket.resume();
      this.#serve();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#stopTimer());
    this.#arm();
  }

  /** Bytes this connection holds: requests not yet served and replies not yet sent. */
  get queuedBytes(): number {
    return this.#buffer.length + this.#socket.writableLength;
  }

  /** Paused because the peer does not read its replies. */
  get blocked(): boolean {
    return this.#blocked;
  }

  close(reason: string): void {
    if (this.#socket.destroyed) return;
    this.#log.debug('Modbus TCP connection closed', { reason, remote: this.#socket.remoteAddress });
    this.#socket.destroy();
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.queuedBytes > this.#limits.maxQueuedBytes) return this.close(`more than ${this.#limits.maxQueuedBytes} bytes queued`);
    this.#serve();
  }

  #serve(): void {
    if (this.#serving) return;
    this.#serving = true;
    this.#serveFrames()
      .catch((err: unknown) => {
        this.#log.error('Modbus TCP request failed', { err });
        this.#socket.destroy();
      })
      .finally(() => (this.#serving = false));
  }

  async #serveFrames(): Promise<void> {
    const socket = this.#socket;
    let servedThisTurn = 0;
    while (!this.#blocked && this.#buffer.length >= MBAP_HEADER && !socket.destroyed) {
      if (servedThisTurn === FRAMES_PER_TURN) {
        // Not read meanwhile: what waits here is all this connection holds.
        servedThisTurn = 0;
        socket.pause();
        await new Promise((resolve) => setImmediate(resolve));
        if (!this.#blocked) socket.resume();
        continue; // the state may have changed meanwhile
      }
      const protocolId = this.#buffer.readUInt16BE(2);
      const length = this.#buffer.readUInt16BE(4);
      // A frame that cannot be trusted: the stream cannot be resynchronised.
      if (protocolId !== 0 || length < 2 || length > MAX_LENGTH_FIELD)
        return this.close(`untrustworthy frame: protocol id ${protocolId}, length ${length}`);
      if (this.#buffer.length < 6 + length) break; // the rest of the frame is still on its way
      const frame = this.#buffer.subarray(0, 6 + length);
      this.#buffer = this.#buffer.subarray(6 + length);
      this.lastRequestMs = this.#clock.now();
      this.#partialSinceMs = null;
      this.served = true;
      servedThisTurn += 1;
      const unitId = frame[6] as number;
      const response = await this.#handler(unitId, frame.subarray(MBAP_HEADER));
      if (response === null || socket.destroyed) continue;
      const reply = Buffer.allocUnsafe(MBAP_HEADER + response.length);
      frame.copy(reply, 0, 0, 4); // transaction id and protocol id echoed
      reply.writeUInt16BE(response.length + 1, 4);
      reply[6] = unitId;
      response.copy(reply, MBAP_HEADER);
      if (!socket.write(reply)) {
        this.#blocked = true;
        socket.pause();
      }
    }
    if (this.queuedBytes > this.#limits.maxQueuedBytes) return this.close(`more than ${this.#limits.maxQueuedBytes} bytes queued`);
    // A partial frame is timed only while the peer is being read; a blocked peer meets the idle limit instead.
    if (this.#buffer.length === 0 || this.#blocked) this.#partialSinceMs = null;
    else this.#partialSinceMs ??= this.#clock.now();
    this.#arm();
  }

  /** The nearer deadline of the two: idle, or the partial frame (which counts only while the peer is being read). */
  #deadlineMs(): number {
    const idleAtMs = this.lastRequestMs + this.#limits.idleMs;
    return this.#partialSinceMs === null ? idleAtMs : Math.min(idleAtMs, this.#partialSinceMs + this.#limits.partialFrameMs);
  }

  #arm(): void {
    if (this.#socket.destroyed) return;
    const atMs = this.#deadlineMs();
    // Later deadlines (a request just served) are found when the armed timer wakes: no timer churn per request.
    if (this.#timer !== null && this.#timerAtMs <= atMs) return;
    this.#stopTimer();
    this.#timerAtMs = atMs;
    this.#timer = this.#clock.setTimeout(() => this.#wake(), atMs - this.#clock.now());
  }

  #wake(): void {
    this.#timer = null;
    const now = this.#clock.now();
    if (this.#partialSinceMs !== null && now - this.#partialSinceMs >= this.#limits.partialFrameMs)
      return this.close(`frame incomplete for ${this.#limits.partialFrameMs} ms`);
    if (now - this.lastRequestMs >= this.#limits.idleMs) return this.close(`idle for ${this.#limits.idleMs} ms`);
    this.#arm();
  }

  #stopTimer(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}

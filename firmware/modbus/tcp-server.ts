import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../hal/clock.js';
import type { Logger } from '../log.js';
import { RateLimitedLog } from '../log-rate.js';
import { MbapConnection, type ConnectionLimits, type PduHandler } from './tcp-connection.js';

export type { PduHandler } from './tcp-connection.js';

/** Connections served at once; the next one closes the longest-idle (CONTRACT §10). */
export const MAX_MODBUS_CONNECTIONS = 16;
/** CONTRACT §10: a connection without a complete request for 60 s is closed. */
export const MODBUS_IDLE_MS = 60_000;
/** CONTRACT §10: a frame begun and not completed within 5 s closes the connection. */
export const MODBUS_PARTIAL_FRAME_MS = 5_000;
/**
 * Requests not yet served plus replies not yet sent, per connection. A master waiting for each
 * answer (evcc, every energy manager we know) holds under 300 bytes; one that pipelines without
 * reading its replies reaches it within one read chunk (64 KiB) and is closed.
 */
export const MODBUS_MAX_QUEUED_BYTES = 64 * 1024;

export interface ModbusTcpServerOptions {
  readonly handler: PduHandler;
  readonly log: Logger;
  readonly clock: Clock;
  readonly maxConnections?: number;
  readonly limits?: Partial<ConnectionLimits>;
}

/**
 * Modbus TCP (MBAP framing) over `node:net`. Framed here rather than with modbus-serial's
 * ServerTCP, which defers every request by a timer (see the Modbus notes): the register engine is
 * the same for TCP and RTU. No connection is ever refused: when every slot is taken, the one that
 * has been idle longest makes room, those that never sent a complete request first, so that
 * connections held open by someone else cannot lock the energy manager out.
 */
export class ModbusTcpServer {
  readonly #server: Server;
  readonly #handler: PduHandler;
  readonly #log: Logger;
  readonly #noisy: RateLimitedLog;
  readonly #clock: Clock;
  readonly #maxConnections: number;
  readonly #limits: ConnectionLimits;
  readonly #connections = new Set<MbapConnection>();

  constructor(options: ModbusTcpServerOptions) {
    this.#handler = options.handler;
    this.#log = options.log;
    this.#clock = options.clock;
    this.#noisy = new RateLimitedLog({ log: options.log, clock: options.clock, about: 'Modbus TCP connections' });
    this.#maxConnections = options.maxConnections ?? MAX_MODBUS_CONNECTIONS;
    this.#limits = {
      idleMs: MODBUS_IDLE_MS,
      partialFrameMs: MODBUS_PARTIAL_FRAME_MS,
      maxQueuedBytes: MODBUS_MAX_QUEUED_BYTES,
      ...options.limits,
    };
    this.#server = createServer({ noDelay: true }, (socket) => {
      if (this.#connections.size >= this.#maxConnections) this.#evict();
      const connection = new MbapConnection(socket, this.#handler, this.#clock, this.#limits, this.#log);
      this.#connections.add(connection);
      socket.on('close', () => this.#connections.delete(connection));
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        const bound = (this.#server.address() as AddressInfo).port;
        this.#log.info('Modbus TCP listening', { host, port: bound });
        resolve(bound);
      });
    });
  }

  /** What the connections hold now (the benchmark and the tests watch it). */
  stats(): { connections: number; queuedBytes: number; blocked: number } {
    let queuedBytes = 0;
    let blocked = 0;
    for (const connection of this.#connections) {
      queuedBytes += connection.queuedBytes;
      if (connection.blocked) blocked += 1;
    }
    return { connections: this.#connections.size, queuedBytes, blocked };
  }

  close(): Promise<void> {
    for (const connection of this.#connections) connection.close('server stopped');
    this.#noisy.close();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #evict(): void {
    let victim: MbapConnection | null = null;
    for (const connection of this.#connections) {
      if (
        victim === null ||
        (victim.served && !connection.served) ||
        (victim.served === connection.served && connection.lastRequestMs < victim.lastRequestMs)
      )
        victim = connection;
    }
    if (victim === null) return;
    this.#connections.delete(victim);
    this.#noisy.warn('Modbus TCP: all connections taken, the longest-idle closed', {
      idleMs: this.#clock.now() - victim.lastRequestMs,
      served: victim.served,
    });
    victim.close('evicted for a new connection');
  }
}

import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';

/** Answers one request PDU for a unit; null = no answer (unit not ours). */
export type PduHandler = (unitId: number, pdu: Buffer) => Promise<Buffer | null>;

export interface ModbusTcpServerOptions {
  readonly handler: PduHandler;
  readonly log: Logger;
  /** Connections beyond this are refused, so a misbehaving master cannot exhaust the box. */
  readonly maxConnections?: number;
}

const MBAP_HEADER = 7;
/** Unit id + the longest PDU (253 bytes). */
const MAX_LENGTH_FIELD = 254;

/**
 * Modbus TCP (MBAP framing) over `node:net`. Framed here rather than with modbus-serial's
 * ServerTCP, which defers every request by a timer (see the Modbus notes): the register engine is
 * the same for TCP and RTU. A frame that cannot be trusted (protocol id not 0, a length field out
 * of range) closes the connection, since the stream cannot be resynchronised.
 */
export class ModbusTcpServer {
  readonly #server: Server;
  readonly #handler: PduHandler;
  readonly #log: Logger;
  readonly #sockets = new Set<Socket>();

  constructor(options: ModbusTcpServerOptions) {
    this.#handler = options.handler;
    this.#log = options.log;
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server.maxConnections = options.maxConnections ?? 16;
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

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    let buffer: Buffer = Buffer.alloc(0);
    let busy = false;
    const drain = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        while (buffer.length >= MBAP_HEADER && !socket.destroyed) {
          const protocolId = buffer.readUInt16BE(2);
          const length = buffer.readUInt16BE(4);
          if (protocolId !== 0 || length < 2 || length > MAX_LENGTH_FIELD) {
            this.#log.debug('Modbus TCP: untrustworthy frame, closing', { protocolId, length });
            socket.destroy();
            return;
          }
          if (buffer.length < 6 + length) return; // the rest of the frame is still on its way
          const frame = buffer.subarray(0, 6 + length);
          buffer = buffer.subarray(6 + length);
          const unitId = frame[6] as number;
          const response = await this.#handler(unitId, frame.subarray(MBAP_HEADER));
          if (response === null || socket.destroyed) continue;
          const header = Buffer.alloc(MBAP_HEADER);
          frame.copy(header, 0, 0, 2); // transaction id echoed
          header.writeUInt16BE(response.length + 1, 4);
          header[6] = unitId;
          socket.write(Buffer.concat([header, response]));
        }
      } finally {
        busy = false;
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      void drain().catch((err: unknown) => {
        this.#log.error('Modbus TCP request failed', { err });
        socket.destroy();
      });
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
  }
}

import { connect, type Socket } from 'node:net';

/**
 * A bare Modbus TCP client: one request at a time, frames built by hand, no library in the way,
 * so that a round trip measures the server and the loopback, and the same client serves our
 * slave and the C reference alike.
 */
export class RawModbusClient {
  readonly #socket: Socket;
  #transaction = 0;
  #buffer = Buffer.alloc(0);
  #waiting: ((frame: Buffer) => void) | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      if (this.#buffer.length < 6) return;
      const length = 6 + this.#buffer.readUInt16BE(4);
      if (this.#buffer.length < length) return;
      const frame = this.#buffer.subarray(0, length);
      this.#buffer = this.#buffer.subarray(length);
      const waiting = this.#waiting;
      this.#waiting = null;
      waiting?.(frame);
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawModbusClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new RawModbusClient(socket)));
      socket.once('error', reject);
    });
  }

  /** FC03: `count` holding registers from `address`. */
  readHolding(unit: number, address: number, count: number): Promise<Buffer> {
    return this.#request(unit, Buffer.from([0x03, address >> 8, address & 0xff, count >> 8, count & 0xff]));
  }

  /** FC06: one register. */
  writeRegister(unit: number, address: number, value: number): Promise<Buffer> {
    return this.#request(unit, Buffer.from([0x06, address >> 8, address & 0xff, value >> 8, value & 0xff]));
  }

  close(): void {
    this.#socket.destroy();
  }

  #request(unit: number, pdu: Buffer): Promise<Buffer> {
    this.#transaction = (this.#transaction + 1) & 0xffff;
    const mbap = Buffer.alloc(7);
    mbap.writeUInt16BE(this.#transaction, 0);
    mbap.writeUInt16BE(0, 2);
    mbap.writeUInt16BE(pdu.length + 1, 4);
    mbap.writeUInt8(unit, 6);
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#socket.write(Buffer.concat([mbap, pdu]));
    });
  }
}

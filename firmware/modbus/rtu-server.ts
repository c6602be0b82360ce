import type { Rs485Port } from '../../hal/rs485-port.js';
import type { Logger } from '../log.js';
import { withCrc } from './crc.js';
import { interFrameSilenceMs, RtuFramer } from './rtu-framer.js';

/** Answers one RTU request: unit id and PDU in, response PDU out (null = stay silent). */
export type RtuHandler = (unitId: number, pdu: Buffer) => Promise<Buffer | null>;

/**
 * Modbus RTU slave on the RS-485 port. Frames come from the RtuFramer; requests are
 * answered one after the other in arrival order. Frames with a bad CRC, and frames the handler
 * does not answer (other unit ids, broadcasts), get silence.
 */
export class ModbusRtuServer {
  readonly #port: Rs485Port;
  readonly #handler: RtuHandler;
  readonly #log: Logger;
  readonly #framer = new RtuFramer();
  readonly #silenceMs: number;
  #silenceTimer: ReturnType<typeof setTimeout> | null = null;
  #queue: Promise<void> = Promise.resolve();

  constructor(port: Rs485Port, handler: RtuHandler, log: Logger) {
    this.#port = port;
    this.#handler = handler;
    this.#log = log;
    this.#silenceMs = interFrameSilenceMs(port.settings.baudRate);
    port.onData = (chunk) => this.#receive(chunk);
  }

  async open(): Promise<void> {
    await this.#port.open();
    this.#log.info('Modbus RTU listening', { path: this.#port.settings.path, baudRate: this.#port.settings.baudRate });
  }

  async close(): Promise<void> {
    if (this.#silenceTimer !== null) clearTimeout(this.#silenceTimer);
    await this.#queue;
    await this.#port.close();
  }

  #receive(chunk: Buffer): void {
    for (const frame of this.#framer.push(chunk)) this.#enqueue(frame);
    if (this.#silenceTimer !== null) clearTimeout(this.#silenceTimer);
    if (!this.#framer.pending) return;
    this.#silenceTimer = setTimeout(() => {
      this.#silenceTimer = null;
      const frame = this.#framer.silence();
      if (frame) this.#enqueue(frame);
    }, this.#silenceMs);
  }

  #enqueue(frame: Buffer): void {
    this.#queue = this.#queue
      .then(async () => {
        const unitId = frame[0] as number;
        const response = await this.#handler(unitId, frame.subarray(1, frame.length - 2));
        if (response !== null) this.#port.write(withCrc(Buffer.concat([Buffer.from([unitId]), response])));
      })
      .catch((err: unknown) => this.#log.error('Modbus RTU request failed', { err }));
  }
}

import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Rs485Port, Rs485Settings } from '../../hal/rs485-port.js';
import type { Logger } from '../log.js';
import { withCrc } from './crc.js';
import { interFrameSilenceMs, RtuFramer } from './rtu-framer.js';

/** Answers one RTU request: unit id and PDU in, response PDU out (null = stay silent). */
export type RtuHandler = (unitId: number, pdu: Buffer) => Promise<Buffer | null>;

export interface ModbusRtuServerOptions {
  readonly port: Rs485Port;
  readonly handler: RtuHandler;
  readonly log: Logger;
  /** The inter-frame silence and the time a reply occupies the line run on it. */
  readonly clock: Clock;
}

/** MODBUS over Serial Line V1.02 §2.5.1: one character is 11 bits on the line (start, 8 data, parity or a 2nd stop, stop). */
const BITS_PER_CHARACTER = 11;

/** How long `bytes` occupy the line at `baudRate`, ms. */
export function lineTimeMs(bytes: number, baudRate: number): number {
  return (bytes * BITS_PER_CHARACTER * 1000) / baudRate;
}

/**
 * Modbus RTU slave on the RS-485 port. Frames come from the RtuFramer; frames with a bad CRC, and
 * frames the handler does not answer (other unit ids, broadcasts), get silence. The line is half
 * duplex and served at its own speed: one request is answered at a time, the next only once the
 * reply has had its time on the line (and the inter-frame silence after it), and at most one
 * request waits meanwhile; what else arrives is dropped, as a slave that is talking cannot hear it.
 * A flood on the line therefore costs at most one frame buffer, one waiting request and one
 * reply in the driver.
 */
export class ModbusRtuServer {
  readonly #port: Rs485Port;
  readonly #handler: RtuHandler;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #framer = new RtuFramer();
  #silenceMs: number;
  #silenceTimer: TimerHandle | null = null;
  #lineTimer: TimerHandle | null = null;
  /** A request is being answered or its reply is still on the line. */
  #busy = false;
  #waiting: Buffer | null = null;
  #dropped = 0;
  #idle: Promise<void> = Promise.resolve();
  #settle: () => void = () => {};

  constructor(options: ModbusRtuServerOptions) {
    this.#port = options.port;
    this.#handler = options.handler;
    this.#log = options.log;
    this.#clock = options.clock;
    this.#silenceMs = interFrameSilenceMs(options.port.settings.baudRate);
    options.port.onData = (chunk) => this.#receive(chunk);
  }

  /** Opens the line (on `settings` instead of the port's own: the config file's device); the silence follows its baud rate. */
  async open(settings?: Rs485Settings): Promise<void> {
    await this.#port.open(settings);
    this.#silenceMs = interFrameSilenceMs(this.#port.settings.baudRate);
    this.#log.info('Modbus RTU listening', { path: this.#port.settings.path, baudRate: this.#port.settings.baudRate });
  }

  async close(): Promise<void> {
    if (this.#silenceTimer !== null) this.#clock.clearTimeout(this.#silenceTimer);
    this.#waiting = null;
    await this.#idle;
    if (this.#lineTimer !== null) this.#clock.clearTimeout(this.#lineTimer);
    if (this.#dropped > 0) this.#log.info('Modbus RTU: requests dropped while a reply was on the line', { dropped: this.#dropped });
    await this.#port.close();
  }

  /** What the server holds now: the framer's bytes and the waiting request (the tests watch it). */
  get bufferedBytes(): number {
    return this.#framer.bufferedBytes + (this.#waiting?.length ?? 0);
  }

  #receive(chunk: Buffer): void {
    for (const frame of this.#framer.push(chunk)) this.#accept(frame);
    if (this.#silenceTimer !== null) this.#clock.clearTimeout(this.#silenceTimer);
    this.#silenceTimer = null;
    if (!this.#framer.pending) return;
    this.#silenceTimer = this.#clock.setTimeout(() => {
      this.#silenceTimer = null;
      const frame = this.#framer.silence();
      if (frame) this.#accept(frame);
    }, this.#silenceMs);
  }

  #accept(frame: Buffer): void {
    if (!this.#busy) return void this.#answer(frame);
    if (this.#waiting === null) this.#waiting = frame;
    else this.#dropped += 1;
  }

  async #answer(frame: Buffer): Promise<void> {
    this.#busy = true;
    this.#idle = new Promise((resolve) => (this.#settle = resolve));
    let replyBytes = 0;
    try {
      const unitId = frame[0] as number;
      const response = await this.#handler(unitId, frame.subarray(1, frame.length - 2));
      if (response !== null) {
        const reply = withCrc(Buffer.concat([Buffer.from([unitId]), response]));
        replyBytes = reply.length;
        this.#port.write(reply);
      }
    } catch (err) {
      this.#log.error('Modbus RTU request failed', { err });
    }
    this.#settle();
    const lineMs = replyBytes === 0 ? 0 : lineTimeMs(replyBytes, this.#port.settings.baudRate) + this.#silenceMs;
    if (lineMs === 0) return this.#next();
    this.#lineTimer = this.#clock.setTimeout(() => {
      this.#lineTimer = null;
      this.#next();
    }, lineMs);
  }

  #next(): void {
    this.#busy = false;
    const frame = this.#waiting;
    this.#waiting = null;
    if (frame !== null) void this.#answer(frame);
  }
}

import { SerialPort } from 'serialport';
import type { Clock } from '../clock.js';
import type { RfidReader } from '../rfid-reader.js';

const STX = 0x02;
const ETX = 0x03;
const FRAME_LENGTH = 14;
/** A card held to the reader repeats its frame; the same card counts again only after this pause. */
const SAME_CARD_MS = 2000;

/**
 * The frames of a 125 kHz RDM6300-class serial reader (9600 8N1): STX, ten ASCII hex digits
 * (version byte and 32-bit card number), two ASCII hex digits of XOR checksum, ETX. Pure: bytes
 * in, idTags (the ten digits, upper case) out; noise and bad checksums are skipped.
 */
export class Rdm6300Decoder {
  #buffer = Buffer.alloc(0);

  push(bytes: Buffer): string[] {
    this.#buffer = Buffer.concat([this.#buffer, bytes]);
    const tags: string[] = [];
    for (;;) {
      const start = this.#buffer.indexOf(STX);
      if (start < 0) {
        this.#buffer = Buffer.alloc(0);
        return tags;
      }
      if (this.#buffer.length - start < FRAME_LENGTH) {
        this.#buffer = this.#buffer.subarray(start);
        return tags;
      }
      const frame = this.#buffer.subarray(start, start + FRAME_LENGTH);
      const text = frame.subarray(1, 13).toString('latin1');
      if (frame[13] === ETX && /^[0-9A-Fa-f]{12}$/.test(text)) {
        const bytes = Buffer.from(text, 'hex');
        const checksum = bytes.subarray(0, 5).reduce((x, b) => x ^ b, 0);
        if (checksum === bytes[5]) {
          tags.push(text.slice(0, 10).toUpperCase());
          this.#buffer = this.#buffer.subarray(start + FRAME_LENGTH);
          continue;
        }
      }
      this.#buffer = this.#buffer.subarray(start + 1); // not a frame: look for the next STX
    }
  }
}

/** The RFID reader on a tty: one `onCard` per card presented, not one per repeated frame. */
export class Rdm6300Reader implements RfidReader {
  onCard: ((idTag: string) => void) | null = null;
  readonly #port: SerialPort;
  readonly #decoder = new Rdm6300Decoder();
  readonly #clock: Clock;
  #last: { idTag: string; atMs: number } | null = null;

  constructor(path: string, clock: Clock) {
    this.#clock = clock;
    this.#port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
    this.#port.on('data', (chunk: Buffer) => this.#received(chunk));
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#port.open((err) => (err ? reject(new Error(`RFID reader: cannot open ${this.#port.path}: ${err.message}`)) : resolve())),
    );
  }

  close(): void {
    if (this.#port.isOpen) this.#port.close();
  }

  #received(chunk: Buffer): void {
    for (const idTag of this.#decoder.push(chunk)) {
      const nowMs = this.#clock.now();
      const repeated = this.#last !== null && this.#last.idTag === idTag && nowMs - this.#last.atMs < SAME_CARD_MS;
      this.#last = { idTag, atMs: nowMs };
      if (!repeated) this.onCard?.(idTag);
    }
  }
}

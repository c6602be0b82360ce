import { crcValid } from './crc.js';

/** The longest RTU frame (MODBUS over Serial Line V1.02 §2.5.1: 256 bytes); more without a frame in it is noise. */
export const RTU_MAX_FRAME_BYTES = 256;

/**
 * Splits the RS-485 byte stream into RTU frames. A frame ends after 3.5 character times of
 * silence (the caller calls `silence()`); known request types are taken as soon as their length
 * is in and their CRC checks, so an answer does not wait for the silence. After a bad CRC
 * everything up to the next silence is dropped: the stream cannot be trusted until then. So are
 * more than 256 bytes without a frame in them, so that no flood on the line grows the buffer.
 */
export class RtuFramer {
  #buffer: Buffer = Buffer.alloc(0);
  #discarding = false;

  /** Bytes in; complete frames (CRC checked, CRC included) out. */
  push(bytes: Buffer): Buffer[] {
    if (this.#discarding) return [];
    this.#buffer = this.#buffer.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.#buffer, bytes]);
    const frames: Buffer[] = [];
    while (this.#buffer.length >= 2) {
      const length = expectedRequestLength(this.#buffer);
      if (length === null || this.#buffer.length < length) break;
      const frame = this.#buffer.subarray(0, length);
      if (!crcValid(frame)) {
        this.#discarding = true;
        this.#buffer = Buffer.alloc(0);
        break;
      }
      frames.push(Buffer.from(frame));
      this.#buffer = this.#buffer.subarray(length);
    }
    if (this.#buffer.length > RTU_MAX_FRAME_BYTES) {
      this.#discarding = true;
      this.#buffer = Buffer.alloc(0);
    }
    return frames;
  }

  /** The line went quiet: what is buffered is one frame, if its CRC checks. */
  silence(): Buffer | null {
    const rest = this.#buffer;
    const discarding = this.#discarding;
    this.#buffer = Buffer.alloc(0);
    this.#discarding = false;
    if (discarding || rest.length === 0 || !crcValid(rest)) return null;
    return Buffer.from(rest);
  }

  /** Bytes held while waiting for the rest of a frame (at most RTU_MAX_FRAME_BYTES). */
  get bufferedBytes(): number {
    return this.#buffer.length;
  }

  get pending(): boolean {
    return this.#buffer.length > 0 || this.#discarding;
  }
}

/** Length of a request frame with its CRC, when the function code tells it; null otherwise. */
function expectedRequestLength(buffer: Buffer): number | null {
  const fc = buffer[1] as number;
  if (fc >= 0x01 && fc <= 0x06) return 8;
  if (fc === 0x0f || fc === 0x10) return buffer.length >= 7 ? 9 + (buffer[6] as number) : null;
  return null;
}

/** 3.5 character times (11 bits each) in ms; the Modbus spec fixes 1.75 ms above 19200 baud. */
export function interFrameSilenceMs(baudRate: number): number {
  const exact = baudRate > 19200 ? 1.75 : (3.5 * 11 * 1000) / baudRate;
  return Math.max(2, Math.ceil(exact));
}

import { checkRead, decodeWrite, Exception, windowWords, type ExceptionCode, type RegisterWrite } from './codec.js';
import type { RegisterValues } from './registers.js';

/** What the protocol engine needs from the register model. */
export interface RegisterModel {
  values(): RegisterValues;
  /**
   * Checks writes against the model's own rules (e.g. 8087 only with phase switching enabled)
   * and carries them out; resolves with an exception code when refused.
   */
  write(writes: readonly RegisterWrite[]): Promise<ExceptionCode | null> | ExceptionCode | null;
}

export interface PduResult {
  readonly response: Buffer;
  /** False when the answer is an exception. */
  readonly ok: boolean;
  /** The request wrote registers (broadcasts are carried out, never answered). */
  readonly wrote: boolean;
}

const FC_READ_HOLDING = 0x03;
const FC_WRITE_SINGLE = 0x06;
const FC_WRITE_MULTIPLE = 0x10;

function exception(fc: number, code: ExceptionCode): PduResult {
  return { response: Buffer.from([(fc | 0x80) & 0xff, code]), ok: false, wrote: false };
}

/**
 * One Modbus request PDU (function code and data) in, the response PDU out: holding registers
 * only (03, 06, 16), every other function code exception 01; checks in the order the Modbus
 * specification gives (function, quantity, address, value).
 */
export async function handlePdu(pdu: Buffer, model: RegisterModel): Promise<PduResult> {
  const fc = pdu[0] ?? 0;
  switch (fc) {
    case FC_READ_HOLDING: {
      if (pdu.length !== 5) return exception(fc, Exception.IllegalDataValue);
      const address = pdu.readUInt16BE(1);
      const count = pdu.readUInt16BE(3);
      const refused = checkRead(address, count);
      if (refused !== null) return exception(fc, refused);
      const words = windowWords(model.values(), address, count);
      const response = Buffer.alloc(2 + count * 2);
      response[0] = fc;
      response[1] = count * 2;
      for (let i = 0; i < count; i++) response.writeUInt16BE(words[i] as number, 2 + i * 2);
      return { response, ok: true, wrote: false };
    }
    case FC_WRITE_SINGLE: {
      if (pdu.length !== 5) return exception(fc, Exception.IllegalDataValue);
      return write(fc, pdu.readUInt16BE(1), [pdu.readUInt16BE(3)], model, Buffer.from(pdu));
    }
    case FC_WRITE_MULTIPLE: {
      if (pdu.length < 6) return exception(fc, Exception.IllegalDataValue);
      const address = pdu.readUInt16BE(1);
      const count = pdu.readUInt16BE(3);
      const byteCount = pdu[5] ?? 0;
      if (count < 1 || count > 123 || byteCount !== count * 2 || pdu.length !== 6 + byteCount)
        return exception(fc, Exception.IllegalDataValue);
      const values = Array.from({ length: count }, (_, i) => pdu.readUInt16BE(6 + i * 2));
      return write(fc, address, values, model, pdu.subarray(0, 5));
    }
    default:
      return exception(fc, Exception.IllegalFunction);
  }
}

async function write(fc: number, address: number, values: number[], model: RegisterModel, echo: Buffer): Promise<PduResult> {
  const writes = decodeWrite(address, values);
  if (typeof writes === 'number') return exception(fc, writes);
  let refused: ExceptionCode | null;
  try {
    refused = await model.write(writes);
  } catch {
    refused = Exception.SlaveDeviceFailure;
  }
  if (refused !== null) return exception(fc, refused);
  return { response: Buffer.from(echo), ok: true, wrote: true };
}

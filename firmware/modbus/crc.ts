/** CRC-16/MODBUS (polynomial 0xA001 reflected, start 0xFFFF); sent low byte first. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** `frame` with its CRC appended. */
export function withCrc(frame: Uint8Array): Buffer {
  const out = Buffer.alloc(frame.length + 2);
  out.set(frame);
  out.writeUInt16LE(crc16(frame), frame.length);
  return out;
}

/** Whether the last two bytes of `frame` are the CRC of the rest. */
export function crcValid(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  const body = frame.subarray(0, frame.length - 2);
  return Buffer.from(frame.buffer, frame.byteOffset, frame.length).readUInt16LE(frame.length - 2) === crc16(body);
}

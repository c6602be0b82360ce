/**
 * Follows the MQTT packet boundaries in the bytes from the broker (MQTT 3.1.1 / 5 §2.2: a type
 * byte, then the remaining length in 1..4 bytes of 7 bits each, then that many bytes) and says
 * when a packet announces more than `maxBytes`, before its body arrives: the parser would keep
 * the whole packet in memory, up to 256 MB, and MQTT 3.1.1 has no way to tell a broker the limit.
 */
export class PacketSizeGuard {
  readonly #maxBytes: number;
  /** Where in the packet the next byte is: its type byte, its length bytes, or its body. */
  #at: 'type' | 'length' | 'body' = 'type';
  #length = 0;
  #shift = 0;
  #bodyLeft = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Takes the next bytes; false once a packet is over the bound (or its length is malformed). */
  feed(chunk: Uint8Array): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.#at === 'body') {
        const take = Math.min(this.#bodyLeft, chunk.length - i);
        this.#bodyLeft -= take;
        i += take;
        if (this.#bodyLeft === 0) this.#at = 'type';
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.#at === 'type') {
        this.#at = 'length';
        this.#length = 0;
        this.#shift = 0;
        continue;
      }
      this.#length += (byte & 0x7f) * 2 ** this.#shift;
      this.#shift += 7;
      if ((byte & 0x80) !== 0) {
        if (this.#shift >= 28) return false; // a fifth length byte: not MQTT
        continue;
      }
      if (this.#length > this.#maxBytes) return false;
      this.#bodyLeft = this.#length;
      this.#at = this.#length === 0 ? 'type' : 'body';
    }
    return true;
  }
}

import t from 'tap';
import { PacketSizeGuard } from '../../firmware/mqtt/packet-size-guard.js';

/** The packet boundaries of MQTT §2.2, fed in pieces of every size. */

const packet = (bodyBytes: number): Buffer => {
  const length: number[] = [];
  let rest = bodyBytes;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    length.push(byte);
  } while (rest > 0);
  return Buffer.concat([Buffer.from([0x30, ...length]), Buffer.alloc(bodyBytes, 0x41)]);
};

const feedInPieces = (guard: PacketSizeGuard, bytes: Buffer, piece: number): boolean => {
  for (let at = 0; at < bytes.length; at += piece) if (!guard.feed(bytes.subarray(at, at + piece))) return false;
  return true;
};

t.test('packets up to the bound pass, in any chunking; the first one over it is caught by its header', async (t) => {
  const stream = Buffer.concat([packet(0), packet(5), packet(127), packet(128), packet(16383), packet(16384), packet(1000)]);
  for (const piece of [1, 2, 3, 7, 100, stream.length]) t.ok(feedInPieces(new PacketSizeGuard(16384), stream, piece), `pieces of ${piece}`);
  const guard = new PacketSizeGuard(16384);
  t.ok(guard.feed(packet(10)));
  t.notOk(guard.feed(packet(16385).subarray(0, 4)), 'over the bound: known from the header alone');
  t.notOk(new PacketSizeGuard(2 ** 30).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), 'a fifth length byte');
  t.notOk(new PacketSizeGuard(1024).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])), '256 MB announced');
});

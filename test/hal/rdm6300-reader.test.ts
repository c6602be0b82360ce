import { once } from 'node:events';
import { SerialPort } from 'serialport';
import t from 'tap';
import { systemClock } from '../../hal/clock.js';
import { Rdm6300Decoder, Rdm6300Reader } from '../../hal/linux/rdm6300-reader.js';
import { startPtyPair } from '../helpers/socat.js';

/** The RDM6300-class RFID reader: frame decoding, and the serial driver over socat. */

/** A frame as the reader sends it for version byte `version` and card number `card`. */
function frame(version: number, card: number, corrupt = false): Buffer {
  const bytes = Buffer.alloc(5);
  bytes.writeUInt8(version, 0);
  bytes.writeUInt32BE(card, 1);
  const checksum = bytes.reduce((x, b) => x ^ b, 0) ^ (corrupt ? 1 : 0);
  return Buffer.concat([
    Buffer.from([0x02]),
    Buffer.from(bytes.toString('hex').toUpperCase() + checksum.toString(16).padStart(2, '0').toUpperCase(), 'latin1'),
    Buffer.from([0x03]),
  ]);
}

t.test('decoder: frames in pieces, noise between them, a bad checksum skipped', async (t) => {
  const decoder = new Rdm6300Decoder();
  const a = frame(0x12, 0x00abcdef);
  t.same(decoder.push(a.subarray(0, 5)), []);
  t.same(decoder.push(Buffer.concat([a.subarray(5), Buffer.from('noise\x02\x02'), frame(0x01, 7, true), frame(0x01, 7)])), [
    '1200ABCDEF',
    '0100000007',
  ]);
});

t.test('driver over a virtual serial cable: one onCard per card held to the reader', async (t) => {
  const pair = await startPtyPair();
  t.teardown(() => pair.close());
  const reader = new Rdm6300Reader(pair.slavePath, systemClock);
  await reader.open();
  t.teardown(() => reader.close());
  const cards: string[] = [];
  reader.onCard = (idTag) => cards.push(idTag);
  const card = new SerialPort({ path: pair.masterPath, baudRate: 9600 });
  await once(card, 'open');
  t.teardown(() => card.close());
  for (let i = 0; i < 3; i++) card.write(frame(0x04, 0xa2b3c4d5));
  card.write(frame(0x04, 0x01020304));
  const deadline = Date.now() + 5000;
  while (cards.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(cards, ['04A2B3C4D5', '0401020304'], 'three repeated frames are one card; another card counts');
});

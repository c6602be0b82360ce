import t from 'tap';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import type { Rs485Port } from '../../hal/rs485-port.js';
import { silentLogger } from '../../firmware/log.js';
import { RTU_MAX_FRAME_BYTES, interFrameSilenceMs } from '../../firmware/modbus/rtu-framer.js';
import { lineTimeMs, ModbusRtuServer } from '../../firmware/modbus/rtu-server.js';
import { readPdu, rtuFrame } from '../helpers/modbus-frames.js';

/**
 * A flood on the RS-485 line (CONTRACT §10): served at the line's speed, and whatever arrives,
 * the server holds at most one frame buffer and one waiting request. The port is a recording
 * stand-in; the line timing runs on the simulated clock.
 */

const BAUD = 9600;

function rig(): {
  server: ModbusRtuServer;
  clock: SimulatedClock;
  written: Buffer[];
  feed: (bytes: Buffer) => void;
  served: { count: number };
} {
  const clock = new SimulatedClock();
  const written: Buffer[] = [];
  const port: Rs485Port = {
    settings: { path: '/dev/null', baudRate: BAUD, parity: 'none', dataBits: 8, stopBits: 1 },
    onData: null,
    open: async () => {},
    write: (bytes) => void written.push(bytes),
    close: async () => {},
  };
  const served = { count: 0 };
  const server = new ModbusRtuServer({
    port,
    clock,
    log: silentLogger,
    handler: async (unitId) => {
      served.count += 1;
      return unitId === 1 ? Buffer.concat([Buffer.from([0x03, 250]), Buffer.alloc(250)]) : null;
    },
  });
  return { server, clock, written, served, feed: (bytes) => port.onData?.(bytes) };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('10,000 pipelined reads at once: one reply per line time of a reply, one request waiting, the rest dropped', async (t) => {
  const { server, clock, written, feed } = rig();
  const request = rtuFrame(1, readPdu(8000, 125));
  feed(Buffer.concat(Array.from({ length: 10_000 }, () => request)));
  await settle();
  t.equal(written.length, 1, 'the first is answered at once');
  t.ok(server.bufferedBytes <= RTU_MAX_FRAME_BYTES + request.length, `held: ${server.bufferedBytes} bytes`);
  const replyMs = lineTimeMs(255, BAUD) + interFrameSilenceMs(BAUD);
  clock.advance(replyMs - 1);
  await settle();
  t.equal(written.length, 1, 'nothing more while the reply is on the line');
  clock.advance(1);
  await settle();
  t.equal(written.length, 2, 'the waiting request after it');
  clock.advance(replyMs);
  await settle();
  t.equal(written.length, 2, 'and nothing else: the flood was dropped');
  t.equal(server.bufferedBytes, 0);
});

t.test('a continuous flood at line speed for 60 s: replies never outpace the line, memory stays put', async (t) => {
  const { server, clock, written, feed } = rig();
  const request = rtuFrame(1, readPdu(8000, 125));
  const requestMs = lineTimeMs(request.length, BAUD);
  let maxHeld = 0;
  for (let elapsed = 0; elapsed < 60_000; elapsed += requestMs) {
    feed(request);
    await settle();
    maxHeld = Math.max(maxHeld, server.bufferedBytes);
    clock.advance(requestMs);
  }
  const replyMs = lineTimeMs(255, BAUD) + interFrameSilenceMs(BAUD);
  const lineLimit = Math.ceil(60_000 / replyMs) + 1;
  t.ok(written.length <= lineLimit, `${written.length} replies in 60 s; the line carries at most ${lineLimit}`);
  // Here a reply goes out at the next step of the simulated clock: up to one request's time after the line frees.
  const servedAtLeast = Math.floor(60_000 / (replyMs + requestMs));
  t.ok(written.length >= servedAtLeast, `and the line is kept busy: at least ${servedAtLeast} replies`);
  t.ok(maxHeld <= 2 * request.length, `at most a frame and one waiting request held (${maxHeld} bytes)`);
});

t.test(`noise without a frame in it is dropped past ${RTU_MAX_FRAME_BYTES} bytes; the next frame after a silence is served`, async (t) => {
  const { server, clock, written, feed } = rig();
  const noise = Buffer.alloc(1000, 0x01); // unit 1, function code 1... lengths never complete a CRC-valid frame
  noise.fill(0x41);
  for (let i = 0; i < 100; i++) {
    feed(noise);
    t.ok(server.bufferedBytes <= RTU_MAX_FRAME_BYTES, 'bounded');
    clock.advance(1);
  }
  t.equal(written.length, 0, 'noise gets silence');
  clock.advance(interFrameSilenceMs(BAUD));
  feed(rtuFrame(1, readPdu(8092, 1)));
  await settle();
  t.equal(written.length, 1, 'a frame after the silence is answered');
});

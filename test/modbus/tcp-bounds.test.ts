import t from 'tap';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { silentLogger } from '../../firmware/log.js';
import {
  MAX_MODBUS_CONNECTIONS,
  MODBUS_IDLE_MS,
  MODBUS_MAX_QUEUED_BYTES,
  MODBUS_PARTIAL_FRAME_MS,
  ModbusTcpServer,
} from '../../firmware/modbus/tcp-server.js';
import { pollUntil } from '../helpers/firmware-process.js';
import { readPdu, tcpFrame } from '../helpers/modbus-frames.js';

/**
 * The bounds of Modbus TCP (CONTRACT §10) on real sockets, the timers on the simulated clock:
 * idle 60 s, a half-received frame 5 s, the longest-idle connection evicted when all slots are
 * taken, and a master that never reads its replies paused and bounded.
 */

t.setTimeout(60_000);

/** A read of 125 registers: the largest reply, 259 bytes with its MBAP header. */
const READ_125 = readPdu(8000, 125);
const REPLY_125 = Buffer.concat([Buffer.from([0x03, 250]), Buffer.alloc(250)]);

interface Rig {
  readonly server: ModbusTcpServer;
  readonly port: number;
  readonly clock: SimulatedClock;
  /** How many requests the handler has served. */
  readonly served: { count: number };
}

async function rig(tt: Pick<typeof t, 'teardown'>): Promise<Rig> {
  const clock = new SimulatedClock();
  const served = { count: 0 };
  const server = new ModbusTcpServer({
    clock,
    log: silentLogger,
    handler: async () => {
      served.count += 1;
      return REPLY_125;
    },
  });
  const port = await server.listen('127.0.0.1', 0);
  tt.teardown(() => server.close());
  return { server, port, clock, served };
}

interface Client {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  isClosed(): boolean;
  /** One request, resolves with the reply bytes. */
  ask(tid: number): Promise<Buffer>;
}

async function client(tt: Pick<typeof t, 'teardown'>, port: number): Promise<Client> {
  const socket = connect(port, '127.0.0.1');
  tt.teardown(() => socket.destroy());
  socket.on('error', () => {});
  await once(socket, 'connect');
  let isClosed = false;
  // Not events.once: it rejects on the 'error' (a reset) that may come before the close.
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve())).then(() => void (isClosed = true));
  return {
    socket,
    closed,
    isClosed: () => isClosed,
    ask: async (tid) => {
      let got = Buffer.alloc(0);
      const reply = new Promise<Buffer>((resolve, reject) => {
        const onData = (chunk: Buffer): void => {
          got = Buffer.concat([got, chunk]);
          if (got.length >= 259) {
            socket.off('data', onData);
            resolve(got);
          }
        };
        socket.on('data', onData);
        socket.once('close', () => reject(new Error('closed before the reply')));
      });
      socket.write(tcpFrame(tid, 1, READ_125));
      return reply;
    },
  };
}

/** Within `ms` of real time: the close has arrived. */
async function closedWithin(c: Client, ms = 2000): Promise<boolean> {
  await Promise.race([c.closed, new Promise((r) => setTimeout(r, ms))]);
  return c.isClosed();
}

t.test(`a connection without a complete request for ${MODBUS_IDLE_MS} ms is closed, not a moment earlier`, async (t) => {
  const { port, clock, server } = await rig(t);
  const c = await client(t, port);
  const answer = await c.ask(1);
  t.equal(answer.readUInt16BE(0), 1, 'answered');
  clock.advance(MODBUS_IDLE_MS - 1);
  t.equal(server.stats().connections, 1, 'open at 59.999 s');
  clock.advance(1);
  t.ok(await closedWithin(c), 'closed at 60 s');
});

t.test('a master asking every 30 s stays connected for minutes', async (t) => {
  const { port, clock } = await rig(t);
  const c = await client(t, port);
  for (let i = 0; i < 6; i++) {
    await c.ask(i);
    clock.advance(MODBUS_IDLE_MS / 2);
  }
  t.notOk(await closedWithin(c, 100), 'still open after 3 minutes of simulated time');
});

t.test(`a frame begun and not completed within ${MODBUS_PARTIAL_FRAME_MS} ms closes the connection`, async (t) => {
  const { port, clock, server } = await rig(t);
  const c = await client(t, port);
  c.socket.write(tcpFrame(1, 1, READ_125).subarray(0, 9)); // 9 of 12 bytes
  await pollUntil(
    async () => server.stats().queuedBytes,
    (n) => n === 9,
    2000,
    5,
  );
  clock.advance(MODBUS_PARTIAL_FRAME_MS - 1);
  t.equal(server.stats().connections, 1, 'open at 4.999 s');
  clock.advance(1);
  t.ok(await closedWithin(c), 'closed at 5 s');

  // The rest of a frame that arrives in time is served, and the clock starts again for the next part.
  const d = await client(t, port);
  d.socket.write(tcpFrame(2, 1, READ_125).subarray(0, 9));
  await pollUntil(
    async () => server.stats().queuedBytes,
    (n) => n === 9,
    2000,
    5,
  );
  clock.advance(MODBUS_PARTIAL_FRAME_MS - 1);
  const reply = once(d.socket, 'data');
  d.socket.write(Buffer.concat([tcpFrame(2, 1, READ_125).subarray(9), tcpFrame(3, 1, READ_125).subarray(0, 4)]));
  await reply;
  await pollUntil(
    async () => server.stats().queuedBytes,
    (n) => n === 4,
    2000,
    5,
  );
  clock.advance(MODBUS_PARTIAL_FRAME_MS - 1);
  t.equal(server.stats().connections, 1, 'a new partial frame has its own 5 s');
  clock.advance(1);
  t.ok(await closedWithin(d), 'and is closed after them');
});

t.test(`with all ${MAX_MODBUS_CONNECTIONS} slots taken a new connection closes the longest-idle one, never-served first`, async (t) => {
  const { port, clock, server } = await rig(t);
  const clients: Client[] = [];
  for (let i = 0; i < MAX_MODBUS_CONNECTIONS; i++) {
    const c = await client(t, port);
    await pollUntil(
      async () => server.stats().connections,
      (n) => n === i + 1,
      2000,
      5,
    );
    // Everyone but #5 asks once, #0 earliest; #5 only holds its connection.
    if (i !== 5) await c.ask(i);
    clients.push(c);
    clock.advance(1000);
  }
  await clients[0]!.ask(100); // #0 is now the most recently active; #1 the longest-idle of those served

  const newcomer = await client(t, port);
  t.ok(await closedWithin(clients[5]!), 'the connection that never asked anything made room');
  t.equal((await newcomer.ask(200)).readUInt16BE(0), 200, 'the newcomer is served');
  const second = await client(t, port);
  t.ok(await closedWithin(clients[1]!), 'then the longest-idle of those that asked');
  t.equal((await second.ask(201)).readUInt16BE(0), 201);
  t.notOk(clients[0]!.isClosed() || clients[2]!.isClosed(), 'the others stay');
  t.equal((await clients[0]!.ask(101)).readUInt16BE(0), 101, 'and are served');
  t.equal(server.stats().connections, MAX_MODBUS_CONNECTIONS);
});

t.test('a master that pipelines reads and never reads the replies is paused and bounded, and others are still served', async (t) => {
  const { port, server, served } = await rig(t);
  const normal = await client(t, port);
  const flooder = await client(t, port);
  flooder.socket.pause(); // never reads
  const burst = Buffer.concat(Array.from({ length: 1000 }, (_, i) => tcpFrame(i, 1, READ_125))); // 12 kB
  let maxQueued = 0;
  const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, server.stats().queuedBytes)), 2);
  t.teardown(() => clearInterval(sampler));
  // A normal master asks every 50 ms meanwhile.
  let normalWorstMs = 0;
  let flooding = true;
  const asking = (async () => {
    for (let tid = 1000; flooding; tid++) {
      const sentMs = Date.now();
      await normal.ask(tid);
      normalWorstMs = Math.max(normalWorstMs, Date.now() - sentMs);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  // Keep writing until the firmware has closed the flooder or stopped serving it (send buffers full).
  const deadline = Date.now() + 30_000;
  let sentBytes = 0;
  while (!flooder.isClosed() && server.stats().blocked === 0 && Date.now() < deadline) {
    if (flooder.socket.write(burst)) sentBytes += burst.length;
    else await Promise.race([new Promise((r) => flooder.socket.once('drain', r)), flooder.closed, new Promise((r) => setTimeout(r, 100))]);
  }
  flooding = false;
  await asking;
  t.ok(normalWorstMs < 1000, `a normal master on its own connection was answered within 1 s throughout (worst ${normalWorstMs} ms)`);
  const stats = server.stats();
  t.ok(
    flooder.isClosed() || stats.blocked === 1,
    `the flooder is closed or paused (closed: ${flooder.isClosed()}, blocked: ${stats.blocked}, sent ${sentBytes} bytes)`,
  );
  const servedThen = served.count;
  await new Promise((r) => setTimeout(r, 300));
  t.equal(
    served.count,
    servedThen,
    `no request of the flooder is served any more (${servedThen} served, ${(servedThen * 259) / 1e6} MB of replies)`,
  );
  t.ok(maxQueued <= MODBUS_MAX_QUEUED_BYTES, `at most ${MODBUS_MAX_QUEUED_BYTES} bytes held for it at any time (${maxQueued})`);
  t.equal((await normal.ask(7)).readUInt16BE(0), 7, 'and after');
});

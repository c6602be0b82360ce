import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import t from 'tap';
import { boxRigFor } from '../helpers/box-rig.js';
import { WatchedList } from '../helpers/watched-list.js';

/**
 * Brokers written as a few lines over raw TCP, so that the bytes are what is checked: one that
 * answers the box's MQTT 5 CONNECT as the 3.1.1 specification says (CONNACK return code 1,
 * "unacceptable protocol level", 3.1.1 §3.1.2.2) gets a 3.1.1 CONNECT next, and the box then
 * publishes over it; a hostile one that announces a huge packet is cut off before it is sent.
 * The box in-process on the simulated clock (box-rig.ts).
 */

/** The protocol level byte of an MQTT CONNECT: after the fixed header and the name "MQTT". */
function connectLevel(packet: Buffer): number | null {
  if (packet[0] !== 0x10) return null;
  let at = 1;
  while (((packet[at] ?? 0) & 0x80) !== 0) at++;
  at++;
  return packet.subarray(at, at + 6).equals(Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54])) ? (packet[at + 6] ?? null) : null;
}

t.test('a broker that refuses MQTT 5: the box speaks 3.1.1 and publishes', async (t) => {
  const levels = new WatchedList<number>();
  const after311 = new WatchedList<string>();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let level: number | null = null;
    socket.on('data', (chunk: Buffer) => {
      if (level === 4) return after311.push(chunk.toString('latin1'));
      level = connectLevel(chunk);
      if (level === null) return;
      levels.push(level);
      if (level === 5) socket.end(Buffer.from([0x20, 0x02, 0x00, 0x01]));
      else socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const { port } = server.address() as { port: number };
  const box = await boxRigFor(t, { mqtt: { url: `mqtt://127.0.0.1:${port}` } });
  await box.settle(
    levels.waitFor(
      (items) => (items.includes(4) ? 4 : undefined),
      10_000,
      () => `CONNECT levels: ${JSON.stringify(levels.items)}`,
    ),
  );
  t.same(levels.items.slice(0, 2), [5, 4], 'MQTT 5 first, then 3.1.1');
  await box.settle(
    after311.waitFor(
      (items) => (items.join('').includes('online') ? 'yes' : undefined),
      10_000,
      () => `after the 3.1.1 CONNACK: ${JSON.stringify(after311.items)}`,
    ),
  );
  t.match(after311.items.join(''), /wallbox\/SIM-000001\/availability/);
  t.match(await box.fw.waitForLog((l) => l['msg'] === 'MQTT connected'), { protocolVersion: 4 });
});

t.test('a broker announcing a 200 MB packet: the link is cut at its header, the box reconnects and charges on', async (t) => {
  const connects = new WatchedList<number>();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', (chunk: Buffer) => {
      connects.push(connectLevel(chunk) ?? -1);
      // CONNACK (MQTT 5, no properties), then the header of a PUBLISH of 200 MB and a trickle of it.
      socket.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]));
      socket.write(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x64, 0x00, 0x01, 0x61]));
      socket.write(Buffer.alloc(64 * 1024, 0x41));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const { port } = server.address() as { port: number };
  const box = await boxRigFor(t, { mqtt: { url: `mqtt://127.0.0.1:${port}` } });
  await box.simPost('/sim/ev', { state: 'C' });
  const line = await box.fw.waitForLog((l) => l['msg'] === 'MQTT connection failed; retrying with backoff');
  t.match(line['err'], /the broker sent a packet over 2097152 bytes/);
  await box.settle(
    connects.waitFor(
      (items) => (items.length >= 2 ? 2 : undefined),
      10_000,
      () => `connects: ${JSON.stringify(connects.items)}`,
    ),
  );
  t.pass('reconnected with backoff');
  await box.pace(() => box.snapshot()['relayClosed'] === true);
  t.equal(box.snapshot()['pilot'], 'pwm', 'charging is not affected');
});

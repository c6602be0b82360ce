import t from 'tap';
import { createServer, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { LiveStream, MAX_LIVE_BUFFER_BYTES } from '../../firmware/http/live.js';

/**
 * A live stream (SSE) whose client does not read is dropped once more than
 * MAX_LIVE_BUFFER_BYTES wait for it (CONTRACT §10); a client that reads is not, under the same
 * events. Real sockets; the stream is driven directly.
 */

t.setTimeout(60_000);

async function rig(tt: Pick<typeof t, 'teardown'>): Promise<{ live: LiveStream; port: number; opened: ServerResponse[] }> {
  const live = new LiveStream();
  const opened: ServerResponse[] = [];
  const server = createServer((_req, res) => {
    live.open(res, 'token', [['status', { hello: true }]]);
    opened.push(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  tt.teardown(() => {
    live.closeAll();
    server.closeAllConnections();
    server.close();
  });
  return { live, port: (server.address() as AddressInfo).port, opened };
}

const EVENT = { text: 'x'.repeat(8 * 1024) };
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test(`a client that never reads is dropped once more than ${MAX_LIVE_BUFFER_BYTES} bytes wait for it`, async (t) => {
  const { live, port, opened } = await rig(t);
  const socket = connect(port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  await once(socket, 'connect');
  socket.write('GET /api/live HTTP/1.1\r\nHost: box\r\n\r\n');
  socket.pause(); // and never reads
  while (live.size === 0) await tick();
  const res = opened[0]!;
  let maxWaiting = 0;
  let sentBytes = 0;
  // Events until it is dropped; the kernel's socket buffers take the first megabytes.
  for (let i = 0; i < 20_000 && live.size > 0; i++) {
    live.send('event', EVENT);
    sentBytes += 8 * 1024;
    if (!res.destroyed) maxWaiting = Math.max(maxWaiting, res.writableLength);
    await tick(); // paced like the reader below: only a client that does not read falls behind
  }
  t.equal(live.size, 0, `dropped after ${(sentBytes / 1e6).toFixed(1)} MB of events`);
  t.ok(res.destroyed, 'its connection is closed');
  t.ok(maxWaiting <= MAX_LIVE_BUFFER_BYTES, `at most ${MAX_LIVE_BUFFER_BYTES} bytes waited while it was kept (${maxWaiting})`);
});

t.test('a client that reads is kept under the same stream of events', async (t) => {
  const { live, port } = await rig(t);
  const socket = connect(port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  await once(socket, 'connect');
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  socket.write('GET /api/live HTTP/1.1\r\nHost: box\r\n\r\n');
  while (live.size === 0) await tick();
  for (let i = 0; i < 2000; i++) {
    live.send('event', EVENT);
    await tick();
  }
  t.equal(live.size, 1, 'still connected');
  while (received < 2000 * 8 * 1024) await tick();
  t.pass(`it received everything (${(received / 1e6).toFixed(1)} MB)`);
});

import t from 'tap';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { systemClock } from '../../hal/clock.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { createLogger } from '../../firmware/log.js';
import { endpointUrl, OcppConnection } from '../../firmware/ocpp/connection.js';
import { OcppRpc } from '../../firmware/ocpp/rpc.js';

/** The WebSocket link against a plain `ws` server: URL, auth, subprotocol, backoff, dead links. */

interface Seen {
  url: string;
  authorization: string | undefined;
  protocols: string | undefined;
  socket: WebSocket;
}

async function server(options: { agree?: boolean } = {}) {
  const seen: Seen[] = [];
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    handleProtocols: (protocols) => (options.agree === false ? false : protocols.has('ocpp1.6') ? 'ocpp1.6' : false),
  });
  wss.on('connection', (socket, request) =>
    seen.push({
      url: request.url ?? '',
      authorization: request.headers.authorization,
      protocols: request.headers['sec-websocket-protocol'],
      socket,
    }),
  );
  await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    });
  return { wss, seen, url: `ws://127.0.0.1:${port}/ocpp/`, close };
}

function recordingLog() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }) };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

t.test('the endpoint is ocpp.url + the charge box id as the last path segment', async (t) => {
  t.equal(endpointUrl('ws://cs.example/ocpp', 'box-1'), 'ws://cs.example/ocpp/box-1');
  t.equal(endpointUrl('ws://cs.example/ocpp/', 'box 1'), 'ws://cs.example/ocpp/box%201');
  t.equal(endpointUrl('wss://cs.example', 'A/B'), 'wss://cs.example/A%2FB');
});

t.test('connects with subprotocol ocpp1.6 and Basic auth base64(chargeBoxId:password); none without a password', async (t) => {
  const s = await server();
  t.teardown(s.close);
  for (const password of ['s3cret', '']) {
    const rpc = new OcppRpc({ clock: systemClock, log: recordingLog().log });
    let opened = 0;
    const link = new OcppConnection({
      url: s.url,
      chargeBoxId: 'box-1',
      password,
      rpc,
      clock: systemClock,
      log: recordingLog().log,
      pingIntervalS: 0,
      onOpen: () => opened++,
      onClose: () => {},
    });
    link.start();
    await until(() => opened === 1);
    t.equal(rpc.connected, true);
    await link.stop();
  }
  t.equal(s.seen[0]?.url, '/ocpp/box-1');
  t.equal(s.seen[0]?.protocols, 'ocpp1.6');
  t.equal(s.seen[0]?.authorization, `Basic ${Buffer.from('box-1:s3cret').toString('base64')}`);
  t.equal(s.seen[1]?.authorization, undefined);
});

t.test('a server that does not agree to ocpp1.6 is refused and retried, never used', async (t) => {
  const s = await server({ agree: false });
  t.teardown(s.close);
  const { lines, log } = recordingLog();
  const rpc = new OcppRpc({ clock: systemClock, log });
  let opened = 0;
  const link = new OcppConnection({
    url: s.url,
    chargeBoxId: 'box-1',
    password: '',
    rpc,
    clock: systemClock,
    log,
    pingIntervalS: 0,
    minBackoffMs: 20,
    maxBackoffMs: 40,
    onOpen: () => opened++,
    onClose: () => {},
  });
  link.start();
  await until(() => s.seen.length >= 3);
  await link.stop();
  t.equal(opened, 0);
  t.equal(rpc.connected, false);
  t.ok(
    lines.some((l) => l['msg'] === 'OCPP connection failed' && /subprotocol/.test(String(l['reason']))),
    'the handshake failed on the subprotocol',
  );
});

t.test('backoff doubles from the minimum to the maximum, with jitter in its upper half', async (t) => {
  const clock = new SimulatedClock();
  const { lines, log } = recordingLog();
  const rpc = new OcppRpc({ clock, log });
  const attempts = () => lines.filter((l) => l['msg'] === 'OCPP connecting').length;
  const closes = () => lines.filter((l) => l['msg'] === 'OCPP connection failed').length;
  // Port 9 on loopback: nothing listens, the connection is refused at once.
  const link = new OcppConnection({
    url: 'ws://127.0.0.1:9',
    chargeBoxId: 'b',
    password: '',
    rpc,
    clock,
    log,
    pingIntervalS: 0,
    minBackoffMs: 1000,
    maxBackoffMs: 8000,
    random: () => 1,
    onOpen: () => {},
    onClose: () => {},
  });
  link.start();
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    await until(() => closes() === i + 1);
    let waited = 0;
    while (attempts() === i + 1) {
      clock.advance(100);
      waited += 100;
      if (waited > 20_000) throw new Error('no retry');
    }
    delays.push(waited);
  }
  await link.stop();
  t.same(delays, [1000, 2000, 4000, 8000, 8000]);
});

t.test('a link whose pongs stop is terminated after two ping periods and replaced', async (t) => {
  const s = await server();
  t.teardown(s.close);
  const { lines, log } = recordingLog();
  const rpc = new OcppRpc({ clock: systemClock, log });
  let opened = 0;
  let closed = 0;
  const link = new OcppConnection({
    url: s.url,
    chargeBoxId: 'box-1',
    password: '',
    rpc,
    clock: systemClock,
    log,
    pingIntervalS: 0.2,
    minBackoffMs: 50,
    maxBackoffMs: 100,
    onOpen: () => opened++,
    onClose: () => closed++,
  });
  link.start();
  await until(() => opened === 1);
  // The server stops reading its socket: no pong comes back, nothing else either.
  (s.seen[0]!.socket as unknown as { _socket: { pause(): void } })._socket.pause();
  await until(() => opened === 2, 5000);
  t.equal(closed, 1, 'the dead link was closed once');
  await link.stop();
  t.ok(lines.some((l) => l['msg'] === 'OCPP link replaced' && l['reason'] === 'no pong'));
  t.equal(s.seen.length, 2, 'a new connection replaced it');
});

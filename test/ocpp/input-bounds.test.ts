import t from 'tap';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { systemClock } from '../../hal/clock.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { createLogger, silentLogger } from '../../firmware/log.js';
import { LOG_BURST, LOG_PERIOD_MS } from '../../firmware/log-rate.js';
import { OCPP_MAX_FRAME_BYTES, OCPP_MAX_SEND_BUFFER_BYTES, OcppConnection } from '../../firmware/ocpp/connection.js';
import { MAX_INCOMING_CALLS, MAX_WAITING_CALLS, OcppRpc } from '../../firmware/ocpp/rpc.js';

/**
 * What a central system can push at the box is bounded (CONTRACT §10): frame size (against a raw
 * `ws` server), the CALLs being processed at once, the send buffer of a peer that does not read,
 * and the log lines a misbehaving peer provokes.
 */

t.setTimeout(60_000);

/** A raw `ws` server and an OcppConnection to it; resolves once the link is up. */
async function link(tt: Pick<typeof t, 'teardown'>, rpc: OcppRpc): Promise<{ peer: WebSocket; link: OcppConnection }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 64 * OCPP_MAX_FRAME_BYTES, handleProtocols: () => 'ocpp1.6' });
  await once(wss, 'listening');
  tt.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );
  const connected = once(wss, 'connection') as Promise<[WebSocket]>;
  const connection = new OcppConnection({
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ocpp`,
    chargeBoxId: 'box-1',
    password: '',
    rpc,
    clock: systemClock,
    log: silentLogger,
    pingIntervalS: 0,
    minBackoffMs: 60_000,
    onOpen: () => {},
    onClose: () => {},
  });
  connection.start();
  tt.teardown(() => connection.stop());
  const [peer] = await connected;
  await new Promise<void>((resolve) => {
    const check = (): void => (rpc.connected ? resolve() : void setTimeout(check, 5));
    check();
  });
  return { peer, link: connection };
}

/** A DataTransfer CALL whose frame is exactly `bytes` long. */
function dataTransferOf(bytes: number, id: string): string {
  const empty = JSON.stringify([2, id, 'DataTransfer', { vendorId: 'bench', data: '' }]);
  const frame = JSON.stringify([2, id, 'DataTransfer', { vendorId: 'bench', data: 'x'.repeat(bytes - empty.length) }]);
  if (Buffer.byteLength(frame) !== bytes) throw new Error('frame size');
  return frame;
}

t.test(`a frame of exactly 1 MiB is served; 1 MiB + 1 byte closes the link with 1009`, async (t) => {
  const rpc = new OcppRpc({ clock: systemClock, log: silentLogger });
  rpc.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
  const { peer } = await link(t, rpc);
  const answer = once(peer, 'message') as Promise<[Buffer]>;
  peer.send(dataTransferOf(OCPP_MAX_FRAME_BYTES, 'exact'));
  const [reply] = await answer;
  t.same(JSON.parse(String(reply)), [3, 'exact', { status: 'UnknownVendorId' }], 'exactly 1 MiB is answered');

  const closed = once(peer, 'close') as Promise<[number, Buffer]>;
  peer.send(dataTransferOf(OCPP_MAX_FRAME_BYTES + 1, 'over'));
  const [code] = await closed;
  t.equal(code, 1009, 'one byte more: closed with 1009 (message too big)');
});

t.test(`at most ${MAX_INCOMING_CALLS} CALLs are processed at once; the next gets CALLERROR GenericError "busy"`, async (t) => {
  const clock = new SimulatedClock();
  const rpc = new OcppRpc({ clock, log: silentLogger });
  const sent: unknown[][] = [];
  rpc.attach({ send: (text) => sent.push(JSON.parse(text) as unknown[]) });
  const release: Array<() => void> = [];
  rpc.handle('DataTransfer', () => new Promise((resolve) => release.push(() => resolve({ status: 'Accepted' }))));
  for (let i = 0; i <= MAX_INCOMING_CALLS; i++) rpc.receive(JSON.stringify([2, `c${i}`, 'DataTransfer', { vendorId: 'v' }]));
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(release.length, MAX_INCOMING_CALLS, `${MAX_INCOMING_CALLS} handlers run`);
  t.same(
    sent,
    [[4, `c${MAX_INCOMING_CALLS}`, 'GenericError', `busy: ${MAX_INCOMING_CALLS} CALLs are being processed`, {}]],
    'the one past the bound is refused at once',
  );
  release.shift()?.();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(sent.at(-1), [3, 'c0', { status: 'Accepted' }]);
  rpc.receive(JSON.stringify([2, 'again', 'DataTransfer', { vendorId: 'v' }]));
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(release.length, MAX_INCOMING_CALLS, 'one answered, one more admitted');
  for (const done of release.splice(0)) done();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(sent.filter((m) => m[0] === 3).length, MAX_INCOMING_CALLS + 1, 'all admitted CALLs answered');
});

t.test(`at most ${MAX_WAITING_CALLS} outgoing CALLs wait (triggered faster than answered); one more is refused at once`, async (t) => {
  const clock = new SimulatedClock();
  const rpc = new OcppRpc({ clock, log: silentLogger, callTimeoutMs: 30_000 });
  const sent: unknown[][] = [];
  rpc.attach({ send: (text) => sent.push(JSON.parse(text) as unknown[]) });
  const waiting = Array.from({ length: MAX_WAITING_CALLS }, () => rpc.call('Heartbeat', {}).catch((err: Error) => err));
  await t.rejects(rpc.call('Heartbeat', {}), {
    code: 'GenericError',
    message: `Heartbeat not sent: ${MAX_WAITING_CALLS} CALLs are waiting`,
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(sent.length, 1, 'one outstanding at a time');
  rpc.receive(JSON.stringify([3, sent[0]![1], { currentTime: new Date(clock.now()).toISOString() }]));
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(sent.length, 2, 'the next goes once the first is answered');
  const extra = rpc.call('Heartbeat', {}).catch((err: Error) => err);
  rpc.detach();
  await Promise.all(waiting);
  t.match(await extra, { message: 'not connected' }, 'there was room for one more: it was queued, and failed only with the link');
});

t.test('a central system that sends CALLs and never reads the answers: the link is dropped past the send-buffer bound', async (t) => {
  const rpc = new OcppRpc({ clock: systemClock, log: silentLogger });
  // A large valid answer, so the flood fills the buffers quickly.
  const configurationKey = Array.from({ length: 100 }, (_, i) => ({ key: `Key${i}`, readonly: true, value: 'v'.repeat(400) }));
  rpc.handle('GetConfiguration', () => ({ configurationKey }));
  const { peer } = await link(t, rpc);
  const raw = (peer as unknown as { _socket: { pause(): void } })._socket;
  raw.pause(); // never reads
  const closed = once(peer, 'close');
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  const call = JSON.stringify([2, 'g', 'GetConfiguration', {}]);
  const deadline = Date.now() + 30_000;
  let sent = 0;
  while (!isClosed && Date.now() < deadline) {
    for (let i = 0; i < 50; i++) peer.send(call);
    sent += 50;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  t.ok(
    isClosed,
    `the link was dropped after ${sent} CALLs (${((sent * 41_000) / 1e6).toFixed(0)} MB of answers asked for; ${OCPP_MAX_SEND_BUFFER_BYTES} bytes may wait)`,
  );
});

t.test(`log lines about a misbehaving central system: ${LOG_BURST} pass, the rest are counted once a minute`, async (t) => {
  const clock = new SimulatedClock();
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({
    level: 'debug',
    now: () => clock.now(),
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  const rpc = new OcppRpc({ clock, log });
  rpc.attach({ send: () => {} });
  for (let i = 0; i < 1000; i++) {
    rpc.receive(JSON.stringify([3, `unknown-${i}`, {}])); // CALLRESULT for no outstanding call
    rpc.receive('not json');
    rpc.receive(JSON.stringify([9, 'x']));
    rpc.ignoreBinary();
  }
  t.equal(lines.length, LOG_BURST, `${LOG_BURST} lines for 4000 bad frames`);
  clock.advance(LOG_PERIOD_MS);
  t.equal(lines.length, LOG_BURST + 1, 'one count line at the end of the minute');
  t.match(lines.at(-1), {
    level: 'warn',
    msg: 'log lines dropped',
    module: 'ocpp',
    about: 'OCPP central system',
    dropped: 4000 - LOG_BURST,
  });
});

import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import {
  SIM_API_BURST,
  SIM_API_IDLE_TIMEOUT_MS,
  SIM_API_MAX_BODY_BYTES,
  SIM_API_MAX_CONNECTIONS,
  SIM_API_RATE_PER_S,
  SimControlApi,
} from '../../board/sim-control-api.js';
import { silentLogger } from '../../firmware/log.js';
import { SimRfidReader } from '../../hal/sim/peripherals.js';
import { SimPlant } from '../../hal/sim/plant.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';

/**
 * The simulator's control API runs on the control side's main thread: its inputs are bounded like
 * the firmware's own HTTP inputs (CONTRACT §10). The request rate is timed on the simulated clock.
 */

async function startApi(t: Test): Promise<{ api: SimControlApi; clock: SimulatedClock; url: string }> {
  const clock = new SimulatedClock();
  const plant = new SimPlant({ clock, wiredPhases: 3, voltageV: 230 });
  const api = new SimControlApi({ plant, rfid: new SimRfidReader(), log: silentLogger, clock });
  await api.listen('127.0.0.1', 0);
  t.teardown(() => api.close());
  return { api, clock, url: `http://127.0.0.1:${api.port}` };
}

t.test('the bounds: 16 KiB bodies, 16 connections, 5 s of silence, 1000 requests a second with bursts of 200', async (t) => {
  t.equal(SIM_API_MAX_BODY_BYTES, 16 * 1024);
  t.equal(SIM_API_MAX_CONNECTIONS, 16);
  t.equal(SIM_API_IDLE_TIMEOUT_MS, 5000);
  t.equal(SIM_API_RATE_PER_S, 1000);
  t.equal(SIM_API_BURST, 200);
});

t.test('a body over 16 KiB gets 413 and changes nothing; one of exactly 16 KiB is read', async (t) => {
  const { url } = await startApi(t);
  const post = (body: string): Promise<Response> =>
    fetch(`${url}/sim/ev`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const base = '{"state":"B"}';
  const exact = base.slice(0, -1) + ' '.repeat(SIM_API_MAX_BODY_BYTES - base.length) + '}';
  t.equal(Buffer.byteLength(exact), SIM_API_MAX_BODY_BYTES);
  const tooBig = exact.slice(0, -1) + ' }';
  const refused = await post(tooBig);
  t.equal(refused.status, 413);
  t.match(await refused.json(), { error: `body larger than ${SIM_API_MAX_BODY_BYTES} bytes` });
  t.equal(((await (await fetch(`${url}/sim`)).json()) as Record<string, any>)['ev'].state, 'A', 'the car did not change');
  const accepted = await post(exact);
  t.equal(accepted.status, 200);
  t.equal(((await accepted.json()) as Record<string, any>)['ev'].state, 'B');
});

t.test('requests beyond the burst get 429 until the simulated clock refills the budget', async (t) => {
  const { url, clock } = await startApi(t);
  const statuses: number[] = [];
  for (let i = 0; i < SIM_API_BURST + 1; i++) {
    const res = await fetch(`${url}/sim`);
    statuses.push(res.status);
    await res.arrayBuffer();
  }
  t.same(statuses.slice(0, SIM_API_BURST), Array(SIM_API_BURST).fill(200), `the first ${SIM_API_BURST} at once are served`);
  const refused = await fetch(`${url}/sim`);
  t.equal(statuses[SIM_API_BURST], 429, `request ${SIM_API_BURST + 1} is refused`);
  t.equal(refused.status, 429);
  t.equal(refused.headers.get('retry-after'), '1');
  t.match(await refused.json(), { error: 'more than 1000 requests a second' });
  clock.advance(1000 / SIM_API_RATE_PER_S - 0.5);
  t.equal((await fetch(`${url}/sim`)).status, 429, 'less than a token later: still refused');
  clock.advance(0.5);
  t.equal((await fetch(`${url}/sim`)).status, 200, `${1000 / SIM_API_RATE_PER_S} ms later: one more`);
  t.equal((await fetch(`${url}/sim`)).status, 429);
  clock.advance(1000);
  const again = await Promise.all(Array.from({ length: 10 }, () => fetch(`${url}/sim`)));
  t.same(
    again.map((r) => r.status),
    Array(10).fill(200),
    'a second later the budget is back',
  );
});

t.test('connection 17 is closed at once while 16 are held; the held ones are closed after 5 s of silence', async (t) => {
  const { url } = await startApi(t);
  const port = Number(new URL(url).port);
  // Each socket's close time is taken from its start, so no close can happen before it is listened for.
  const closedAtMs = new Map<Socket, Promise<number>>();
  const open = async (): Promise<Socket> => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    // Flowing, so the server's FIN is read and ends the socket: a paused socket may never see it and never close.
    socket.resume();
    closedAtMs.set(
      socket,
      once(socket, 'close').then(() => Date.now()),
    );
    await once(socket, 'connect');
    return socket;
  };
  const held: Socket[] = [];
  for (let i = 0; i < SIM_API_MAX_CONNECTIONS; i++) held.push(await open());
  t.teardown(() => held.forEach((s) => s.destroy()));
  // Give the server's accept loop the 16 connections before the 17th arrives.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const extra = await open();
  const startedMs = Date.now();
  await once(extra, 'close');
  t.ok(Date.now() - startedMs < 1000, 'the 17th is closed by the server at once');
  const firstHeld = held[0] as Socket;
  t.equal(firstHeld.destroyed, false, 'the 16 held ones are still open');
  firstHeld.write('GET /sim HTTP/1.1\r\nHost: sim\r\n');
  const heldSinceMs = Date.now();
  const closedAfterMs = (socket: Socket): Promise<number> => closedAtMs.get(socket)!.then((atMs) => atMs - heldSinceMs);
  // Bounded: a server that never closes them fails here, named, instead of at tap's file timeout.
  const notClosed = new Promise<never>((_, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `the held connections were not closed within 15 s: open ${held
              .map((h, i) => (h.destroyed ? '' : i))
              .filter((x) => x !== '')
              .join(',')}`,
          ),
        ),
      15_000,
    );
    t.teardown(() => clearTimeout(timer));
  });
  const [halfHeaderMs, ...silentMs] = await Promise.race([Promise.all(held.map(closedAfterMs)), notClosed]);
  t.ok(
    halfHeaderMs! >= SIM_API_IDLE_TIMEOUT_MS - 100 && halfHeaderMs! < SIM_API_IDLE_TIMEOUT_MS + 2000,
    `half a request header, then silence: closed after ${halfHeaderMs} ms`,
  );
  // The others were silent from their start, 100 ms and more before.
  t.ok(
    silentMs.every((ms) => ms < SIM_API_IDLE_TIMEOUT_MS + 2000),
    `the silent ones too, after ${Math.max(...silentMs)} ms at most`,
  );
});

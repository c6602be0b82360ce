import t from 'tap';
import { PendingRequests, type ReplyVerdict } from '../../firmware/request-reply.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';

/** Requests and their replies on the simulated clock: ids, checked replies, the timeout, the bound, close. */

function rig(maxPending = 2) {
  const clock = new SimulatedClock();
  const sent: number[] = [];
  let nextId = 0;
  const pending = new PendingRequests<number>({
    clock,
    timeoutMs: 1000,
    maxPending,
    full: (label) => new Error(`${label}: full`),
    nextId: () => nextId++,
  });
  const isNumber = (reply: unknown): ReplyVerdict<number> =>
    typeof reply === 'number' ? { ok: true, value: reply } : { ok: false, error: new Error('not a number') };
  const request = (label = 'ask'): Promise<number> =>
    pending.request({ label, send: (id) => sent.push(id), check: isNumber, timedOut: () => new Error(`${label}: timed out`) });
  return { clock, sent, pending, request };
}

t.test('each request goes out under its own id and resolves with its own checked reply', async (t) => {
  const { sent, pending, request } = rig();
  const first = request('first');
  const second = request('second');
  t.same(sent, [0, 1]);
  t.equal(pending.size, 2);
  t.equal(pending.label(1), 'second');
  t.equal(pending.reply(1, 20), true);
  t.equal(pending.reply(0, 10), true);
  t.equal(await first, 10);
  t.equal(await second, 20);
  t.equal(pending.size, 0);
  t.equal(pending.reply(0, 10), false, 'a second reply to the same id finds no request');
  t.equal(pending.label(0), undefined);
});

t.test('a reply that fails its check fails the request with the check’s error', async (t) => {
  const { pending, request } = rig();
  const asked = request();
  pending.reply(0, 'text');
  await t.rejects(asked, /not a number/);
  t.equal(pending.size, 0);
});

t.test('no reply within the timeout: the request fails with its own error, and a late reply is ignored', async (t) => {
  const { clock, pending, request } = rig();
  const asked = request('slow');
  clock.advance(999);
  t.equal(pending.size, 1, 'still waiting just before the timeout');
  clock.advance(1);
  await t.rejects(asked, /slow: timed out/);
  t.equal(pending.reply(0, 1), false);
});

t.test('at most maxPending wait: one more is refused at once without being sent', async (t) => {
  const { sent, pending, request } = rig(2);
  const a = request();
  const b = request();
  await t.rejects(request('third'), /third: full/);
  t.same(sent, [0, 1]);
  pending.reply(0, 1);
  await a;
  const c = request();
  t.same(sent, [0, 1, 2], 'room again once one is answered');
  pending.failAll(new Error('closed'));
  await t.rejects(b, /closed/);
  await t.rejects(c, /closed/);
});

t.test('close fails every request waiting', async (t) => {
  const { pending, request } = rig();
  const asked = [request(), request()];
  pending.failAll(new Error('the channel closed'));
  for (const one of asked) await t.rejects(one, /the channel closed/);
  t.equal(pending.size, 0);
});

t.test('a send that throws fails its request and frees its place', async (t) => {
  const { pending } = rig(1);
  const failed = pending.request({
    label: 'x',
    send: () => {
      throw new Error('socket gone');
    },
    check: (reply) => ({ ok: true, value: reply }),
    timedOut: () => new Error('timed out'),
  });
  await t.rejects(failed, /socket gone/);
  t.equal(pending.size, 0);
});

import t from 'tap';
import { TxSender, type Outbox } from '../../firmware/ocpp/model/tx-sender.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { gate } from '../helpers/gate.js';

/**
 * The sender of the kept transaction messages on its own, over an in-memory outbox, on the
 * simulated clock: order, the retry rule (TransactionMessageRetryInterval × attempts so far,
 * TransactionMessageAttempts in all), offline time not counted, dead letters, and nothing sent
 * that the store has not written.
 */

interface Message {
  readonly seq: number;
  failures: number;
  readonly payload: Record<string, unknown>;
  /** Never sendable (a Stop whose Start was given up on). */
  readonly unsendable?: string;
}

class Refusal extends Error {}

/** Everything the sender did to the outbox, in order. */
type Outcome =
  | { readonly kind: 'confirmed'; readonly seq: number; readonly response: string }
  | { readonly kind: 'failed'; readonly seq: number; readonly failures: number }
  | { readonly kind: 'dead'; readonly seq: number; readonly reason: string };

function memoryOutbox(count: number) {
  const messages: Message[] = Array.from({ length: count }, (_, i) => ({ seq: i + 1, failures: 0, payload: { n: i + 1 } }));
  const outcomes: Outcome[] = [];
  let writable = true;
  const remove = (seq: number): void =>
    void messages.splice(
      messages.findIndex((m) => m.seq === seq),
      1,
    );
  const outbox: Outbox<Message, string> = {
    get head() {
      return messages[0];
    },
    persist: async () => writable,
    written: async () => {},
    wireForm: (m) => (m.unsendable !== undefined ? { unsendable: m.unsendable } : { payload: m.payload }),
    confirmed: async (m, response) => {
      outcomes.push({ kind: 'confirmed', seq: m.seq, response });
      remove(m.seq);
    },
    failed: (m, failures) => {
      m.failures = failures;
      outcomes.push({ kind: 'failed', seq: m.seq, failures });
    },
    deadLetter: (m, reason) => {
      outcomes.push({ kind: 'dead', seq: m.seq, reason });
      remove(m.seq);
    },
  };
  return {
    outbox,
    messages,
    outcomes,
    setWritable: (w: boolean) => (writable = w),
  };
}

/** A sender over `count` messages; `answer` plays the peer (throw to refuse). */
function rig(count: number, answer: (seq: number, attempt: number) => string, attempts = 3) {
  const clock = new SimulatedClock();
  const store = memoryOutbox(count);
  const sent: number[] = [];
  const confirmed: Array<{ seq: number; response: string; payload: Record<string, unknown> }> = [];
  const link = { up: true };
  const sender = new TxSender<Message, string>({
    outbox: store.outbox,
    clock,
    attempts: () => attempts,
    retryIntervalS: () => 10,
    canSend: () => link.up,
    connected: () => link.up,
    send: async (m) => {
      sent.push(m.seq);
      return answer(m.seq, sent.filter((s) => s === m.seq).length);
    },
    isRefusal: (err) => err instanceof Refusal,
    onConfirmed: (m, response, payload) => confirmed.push({ seq: m.seq, response, payload }),
  });
  return { clock, store, sent, confirmed, link, sender };
}

/** Lets the sender's promises run (no time passes on the simulated clock). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

t.test('drains in order, each confirmation kept and reported with what was sent', async (t) => {
  const r = rig(3, (seq) => `ok ${seq}`);
  await r.sender.drain();
  t.same(r.sent, [1, 2, 3]);
  t.same(
    r.store.outcomes.map((o) => o.kind),
    ['confirmed', 'confirmed', 'confirmed'],
  );
  t.same(r.confirmed, [
    { seq: 1, response: 'ok 1', payload: { n: 1 } },
    { seq: 2, response: 'ok 2', payload: { n: 2 } },
    { seq: 3, response: 'ok 3', payload: { n: 3 } },
  ]);
  t.equal(r.store.messages.length, 0);
});

t.test('a refusal is tried again after retryIntervalS × the attempts so far, on the clock; then it goes through', async (t) => {
  const r = rig(2, (seq, attempt) => {
    if (seq === 1 && attempt <= 2) throw new Refusal('CALLERROR');
    return 'ok';
  });
  const draining = r.sender.drain();
  await settle();
  t.same(r.sent, [1], 'first attempt refused');
  t.same(r.store.outcomes, [{ kind: 'failed', seq: 1, failures: 1 }]);
  r.clock.advance(9_999);
  await settle();
  t.same(r.sent, [1], 'not before 10 s');
  r.clock.advance(1);
  await settle();
  t.same(r.sent, [1, 1], 'again after 10 s');
  r.clock.advance(19_999);
  await settle();
  t.same(r.sent, [1, 1], 'the second wait is 2 × 10 s');
  r.clock.advance(1);
  await draining;
  t.same(r.sent, [1, 1, 1, 2], 'third attempt accepted; the queue moves on');
  t.equal(r.store.messages[0], undefined);
});

t.test('after TransactionMessageAttempts refusals the message is dead-lettered and the next one goes', async (t) => {
  const r = rig(
    2,
    (seq) => {
      if (seq === 1) throw new Refusal('backend hiccup');
      return 'ok';
    },
    2,
  );
  const draining = r.sender.drain();
  await settle();
  r.clock.advance(10_000);
  await draining;
  t.same(r.sent, [1, 1, 2]);
  t.same(r.store.outcomes, [
    { kind: 'failed', seq: 1, failures: 1 },
    { kind: 'dead', seq: 1, reason: 'backend hiccup' },
    { kind: 'confirmed', seq: 2, response: 'ok' },
  ]);
});

t.test('a failure while the link is down is no attempt: the sender stops and the message keeps its count', async (t) => {
  const r = rig(1, () => {
    r.link.up = false;
    throw new Refusal('link lost');
  });
  await r.sender.drain();
  t.same(r.sent, [1]);
  t.same(r.store.outcomes, [], 'neither failed nor dead');
  t.equal(r.store.messages[0]?.failures, 0);
});

t.test('an error that is not the peer’s answer (a payload that breaks its schema) is given up on at once', async (t) => {
  const r = rig(2, (seq) => {
    if (seq === 1) throw new Error('refusing to send an invalid StopTransaction');
    return 'ok';
  });
  await r.sender.drain();
  t.same(r.store.outcomes, [
    { kind: 'dead', seq: 1, reason: 'refusing to send an invalid StopTransaction' },
    { kind: 'confirmed', seq: 2, response: 'ok' },
  ]);
});

t.test('a message that can never be sent is dead-lettered unsent, with the store’s reason', async (t) => {
  const r = rig(1, () => 'ok');
  r.store.messages.unshift({ seq: 0, failures: 0, payload: {}, unsendable: 'no transactionId' });
  await r.sender.drain();
  t.same(r.sent, [1], 'only the sendable one went out');
  t.same(r.store.outcomes[0], { kind: 'dead', seq: 0, reason: 'no transactionId' });
});

t.test('nothing goes out while the store cannot write, nor while the link is down', async (t) => {
  const r = rig(1, () => 'ok');
  r.store.setWritable(false);
  await r.sender.drain();
  t.same(r.sent, [], 'not on disk: not sent');
  r.store.setWritable(true);
  r.link.up = false;
  await r.sender.drain();
  t.same(r.sent, [], 'offline: not sent');
  r.link.up = true;
  await r.sender.drain();
  t.same(r.sent, [1]);
});

t.test('a drain during a pass makes it look once more before it ends (a message queued meanwhile goes too)', async (t) => {
  const r = rig(1, () => 'ok');
  const held = gate();
  const outbox = r.store.outbox;
  const confirmed = outbox.confirmed;
  outbox.confirmed = async (m, response) => {
    await held.opened;
    await confirmed(m, response);
  };
  const first = r.sender.drain();
  await settle();
  r.store.messages.push({ seq: 2, failures: 0, payload: { n: 2 } });
  const second = r.sender.drain();
  t.equal(second, first, 'the running pass is shared');
  held.open();
  await first;
  t.same(r.sent, [1, 2]);
});

import t from 'tap';
import { MAX_COMMAND_BYTES, parseCommand, type ParsedCommand } from '../../firmware/mqtt/commands.js';
import { Outbox, type Outgoing } from '../../firmware/mqtt/outbox.js';
import { topicPrefix, topicsFor } from '../../firmware/mqtt/topics.js';

/** CONTRACT §8 commands as a table: each payload and the register write it stands for, or why it is refused. */

const topics = topicsFor('wallbox/SN1');
const run = (
  topic: string,
  payload: string | Buffer,
  options: { retained?: boolean; phaseSwitchingEnabled?: boolean } = {},
): ParsedCommand =>
  parseCommand(topics, topic, typeof payload === 'string' ? Buffer.from(payload) : payload, options.retained ?? false, {
    phaseSwitchingEnabled: options.phaseSwitchingEnabled ?? true,
  });

t.test('set/limit: A as 8093 tenths; 0 or 6..80', async (t) => {
  const accepted: Array<[string, number]> = [
    ['0', 0],
    ['6', 60],
    ['16', 160],
    ['16.0', 160],
    [' 7.5\n', 75],
    ['6.04', 60],
    ['80', 800],
    ['32.25', 323],
  ];
  for (const [payload, raw] of accepted)
    t.same(run(topics.set.limit, payload), { ok: true, name: 'currentLimit', raw }, JSON.stringify(payload));
  const refused: Array<[string, RegExp]> = [
    ['abc', /^not a number/],
    ['', /^not a number/],
    ['1e2', /^not a number/],
    ['0x10', /^not a number/],
    ['NaN', /^not a number/],
    ['{"limit":16}', /^not a number/],
    ['3', /^out of range: 3 A/],
    ['5.99', /^out of range/],
    ['80.1', /^out of range/],
    ['-6', /^out of range/],
    ['1000', /^out of range/],
  ];
  for (const [payload, reason] of refused) t.match(run(topics.set.limit, payload), { ok: false, reason }, JSON.stringify(payload));
});

t.test('set/enable: exactly 0 or 1 (8094)', async (t) => {
  t.same(run(topics.set.enable, '1'), { ok: true, name: 'chargingEnable', raw: 1 });
  t.same(run(topics.set.enable, '0'), { ok: true, name: 'chargingEnable', raw: 0 });
  for (const payload of ['2', 'true', 'on', '', '1.0', '-1'])
    t.match(run(topics.set.enable, payload), { ok: false, reason: /^must be 0 or 1/ }, JSON.stringify(payload));
});

t.test('set/phases: 1 or 3 (8087: 1 = one phase, 0 = three), only with phase switching', async (t) => {
  t.same(run(topics.set.phases, '1'), { ok: true, name: 'phaseSelection', raw: 1 });
  t.same(run(topics.set.phases, '3'), { ok: true, name: 'phaseSelection', raw: 0 });
  t.match(run(topics.set.phases, '2'), { ok: false, reason: /^must be 1 or 3/ });
  t.match(run(topics.set.phases, '1', { phaseSwitchingEnabled: false }), {
    ok: false,
    reason: 'phase switching is not enabled (evse.phaseSwitching.enabled)',
  });
});

t.test('a payload over the bound, a retained command and an unknown topic are refused unread', async (t) => {
  t.match(run(topics.set.limit, Buffer.alloc(1024 * 1024, '1')), { ok: false, reason: /^payload too large \(1048576 bytes/ });
  t.match(run(topics.set.limit, '1'.repeat(MAX_COMMAND_BYTES + 1)), { ok: false, reason: /^payload too large/ });
  t.match(run(topics.set.limit, '16', { retained: true }), { ok: false, reason: /^retained command ignored/ });
  t.match(run('wallbox/SN1/set/other', '16'), { ok: false, reason: /^unknown command topic/ });
});

t.test('topics: the prefix defaults to wallbox/<serial>, made topic-safe', async (t) => {
  t.equal(topicPrefix(undefined, 'SIM-000001'), 'wallbox/SIM-000001');
  t.equal(topicPrefix(undefined, 'a/b+c#'), 'wallbox/a_b_c_');
  t.equal(topicPrefix('home/garage/box', 'SN'), 'home/garage/box');
  t.same(topicsFor('p'), {
    prefix: 'p',
    availability: 'p/availability',
    status: 'p/status',
    error: 'p/error',
    set: { limit: 'p/set/limit', enable: 'p/set/enable', phases: 'p/set/phases' },
    commands: 'p/set/+',
  });
});

t.test('outbox: bounded; when full the oldest status goes, then other messages, a reply last', async (t) => {
  const msg = (kind: Outgoing['kind'], n: number): Outgoing => ({ topic: `${kind}/${n}`, payload: '', retain: kind !== 'reply', kind });
  const box = new Outbox(3);
  t.equal(box.push(msg('status', 1)), null);
  t.equal(box.push(msg('reply', 1)), null);
  t.equal(box.push(msg('status', 2)), null);
  t.equal(box.push(msg('reply', 2))?.topic, 'status/1', 'the oldest status first');
  t.equal(box.push(msg('other', 1))?.topic, 'status/2');
  t.equal(box.push(msg('reply', 3))?.topic, 'other/1', 'then the oldest other message');
  t.equal(box.size, 3);
  t.equal(box.push(msg('reply', 4))?.topic, 'reply/1', 'a reply only when nothing else is left');
  t.same(
    [box.shift(), box.shift(), box.shift(), box.shift()].map((m) => m?.topic),
    ['reply/2', 'reply/3', 'reply/4', undefined],
    'first in, first out',
  );
});

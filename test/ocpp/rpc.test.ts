import t from 'tap';
import { silentLogger } from '../../firmware/log.js';
import { OcppRpc, RpcError } from '../../firmware/ocpp/rpc.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';

/** OCPP-J framing on a recording transport: what the charge point answers to what. */

function rig() {
  const clock = new SimulatedClock();
  const sent: unknown[][] = [];
  const rpc = new OcppRpc({ clock, log: silentLogger, callTimeoutMs: 5000 });
  rpc.attach({ send: (text) => sent.push(JSON.parse(text) as unknown[]) });
  rpc.handle('ChangeAvailability', (payload) => ({
    status: (payload as { type: string }).type === 'Operative' ? 'Accepted' : 'Scheduled',
  }));
  // @ts-expect-error an answer the schema refuses, on purpose
  rpc.handle('DataTransfer', () => ({ status: 'Bogus' }));
  rpc.handle('ClearCache', () => {
    throw new RpcError('SecurityError', 'not allowed');
  });
  rpc.handle('Reset', () => {
    throw new Error('boom');
  });
  return { clock, sent, rpc };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

t.test('an incoming CALL is answered with a CALLRESULT carrying its id', async (t) => {
  const { rpc, sent } = rig();
  rpc.receive(JSON.stringify([2, 'abc', 'ChangeAvailability', { connectorId: 1, type: 'Operative' }]));
  await flush();
  t.same(sent, [[3, 'abc', { status: 'Accepted' }]]);
});

const callErrors: Array<[string, unknown, string]> = [
  ['an unknown action', [2, 'm1', 'BrewCoffee', {}], 'NotImplemented'],
  ['an OCPP action this box does not serve', [2, 'm2', 'GetDiagnostics', { location: 'ftp://x' }], 'NotSupported'],
  ['a CALL with 3 elements', [2, 'm3', 'ChangeAvailability'], 'ProtocolError'],
  ['a CALL with 5 elements', [2, 'm4', 'ChangeAvailability', { connectorId: 1, type: 'Operative' }, 1], 'ProtocolError'],
  ['an action that is not a string', [2, 'm5', 7, {}], 'ProtocolError'],
  ['a payload that is not an object', [2, 'm6', 'ChangeAvailability', 'x'], 'FormationViolation'],
  [
    'a field the PDU does not have',
    [2, 'm7', 'ChangeAvailability', { connectorId: 1, type: 'Operative', colour: 'red' }],
    'FormationViolation',
  ],
  ['a missing required field', [2, 'm8', 'ChangeAvailability', { connectorId: 1 }], 'OccurenceConstraintViolation'],
  ['a field of the wrong type', [2, 'm9', 'ChangeAvailability', { connectorId: '1', type: 'Operative' }], 'TypeConstraintViolation'],
  ['a value outside its enum', [2, 'm10', 'ChangeAvailability', { connectorId: 1, type: 'Sleepy' }], 'PropertyConstraintViolation'],
  ['a string over its maximum length', [2, 'm11', 'DataTransfer', { vendorId: 'v'.repeat(256) }], 'PropertyConstraintViolation'],
  ['a handler refusing with a CALLERROR', [2, 'm12', 'ClearCache', {}], 'SecurityError'],
  ['a handler that throws', [2, 'm13', 'Reset', { type: 'Soft' }], 'InternalError'],
  ['a handler answering outside the schema', [2, 'm14', 'DataTransfer', { vendorId: 'v' }], 'InternalError'],
];

for (const [what, frame, code] of callErrors) {
  t.test(`${what} gets CALLERROR ${code}`, async (t) => {
    const { rpc, sent } = rig();
    rpc.receive(JSON.stringify(frame));
    await flush();
    t.equal(sent.length, 1);
    t.match(sent[0], [4, (frame as unknown[])[1], code, String, {}]);
  });
}

t.test('frames without a usable message id are dropped without an answer', async (t) => {
  const { rpc, sent } = rig();
  for (const text of ['not json', '{}', '[]', '[2]', '[2, 5, "Reset", {}]', '"x"', '[9, "id", 1]', 'null']) rpc.receive(text);
  await flush();
  t.same(sent, []);
});

t.test('one CALL at a time: the second goes out only after the first is answered', async (t) => {
  const { rpc, sent } = rig();
  const first = rpc.call('Heartbeat', {});
  const second = rpc.call('Heartbeat', {});
  await flush();
  t.equal(sent.length, 1);
  const [, id1] = sent[0] as [number, string];
  rpc.receive(JSON.stringify([3, id1, { currentTime: '2026-01-01T00:00:00.000Z' }]));
  t.same(await first, { currentTime: '2026-01-01T00:00:00.000Z' });
  await flush();
  t.equal(sent.length, 2);
  const [, id2] = sent[1] as [number, string];
  t.not(id2, id1, 'unique message ids');
  rpc.receive(JSON.stringify([3, id2, { currentTime: '2026-01-01T00:00:01.000Z' }]));
  await second;
});

t.test('an invalid CALLRESULT fails the call; a CALLERROR rejects with its code; a result for another id is ignored', async (t) => {
  const { rpc, sent } = rig();
  const call = rpc.call('Heartbeat', {});
  await flush();
  const [, id] = sent[0] as [number, string];
  rpc.receive(JSON.stringify([3, 'someone-else', { currentTime: '2026-01-01T00:00:00.000Z' }]));
  rpc.receive(JSON.stringify([3, id, { currentTime: 12 }]));
  await t.rejects(call, { name: 'RpcError', code: 'TypeConstraintViolation' } as unknown as Error);
  const refused = rpc.call('Heartbeat', {});
  await flush();
  const [, id2] = sent[1] as [number, string];
  rpc.receive(JSON.stringify([4, id2, 'InternalError', 'oops', {}]));
  await t.rejects(refused, { code: 'InternalError' } as unknown as Error);
});

t.test('a call without an answer times out on the injected clock; the next one goes ahead', async (t) => {
  const { rpc, sent, clock } = rig();
  const call = rpc.call('Heartbeat', {});
  await flush();
  clock.advance(4999);
  await flush();
  clock.advance(1);
  await t.rejects(call, { message: 'Heartbeat timed out' } as unknown as Error);
  const next = rpc.call('Heartbeat', {});
  await flush();
  t.equal(sent.length, 2);
  rpc.receive(JSON.stringify([3, (sent[1] as [number, string])[1], { currentTime: '2026-01-01T00:00:00.000Z' }]));
  await next;
});

t.test('an invalid outgoing payload is never sent; a lost link fails the outstanding call', async (t) => {
  const { rpc, sent } = rig();
  await t.rejects(
    // @ts-expect-error a request the schema refuses, on purpose
    rpc.call('StatusNotification', { connectorId: 1, status: 'Sleeping', errorCode: 'NoError' }),
    /refusing to send an invalid StatusNotification/,
  );
  t.same(sent, []);
  const call = rpc.call('Heartbeat', {});
  await flush();
  rpc.detach();
  await t.rejects(call, { message: 'connection lost' } as unknown as Error);
  await t.rejects(rpc.call('Heartbeat', {}), { message: 'not connected' } as unknown as Error);
});

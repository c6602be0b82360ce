import t, { type Test } from 'tap';
import type { ChargePoint } from '../../firmware/ocpp/charge-point.js';
import { LoopbackCentralSystem, loopbackConnector } from '../helpers/loopback.js';
import { memoryChargePoint } from '../helpers/memory-charge-point.js';
import { simRig, type Rig } from '../helpers/sim-rig.js';

/**
 * The charge point over the in-memory loopback (`test/helpers/loopback.ts`) to a strict in-process
 * central system, on the simulated clock: no socket, no real time, the same schemas.
 */

async function loopbackRig(t: Test): Promise<{ rig: Rig; cs: LoopbackCentralSystem; cp: ChargePoint }> {
  const rig = simRig({ ocpp: true });
  const cs = new LoopbackCentralSystem(() => new Date(rig.clock.now()).toISOString(), 60);
  const cp = await memoryChargePoint(rig, { url: 'ws://loopback', connector: loopbackConnector(cs) });
  t.teardown(() => cp.stop());
  await cp.start();
  return { rig, cs, cp };
}

/** Lets the loopback's frames (each on a later turn of the event loop) and simulated time pass until `done`. */
async function until(rig: Rig, done: () => boolean, limitMs = 10_000): Promise<void> {
  for (let passedMs = 0; !done(); passedMs += 10) {
    if (passedMs > limitMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
    rig.clock.advance(10);
  }
}

t.test('over the loopback: Boot Accepted, the statuses of connectors 0 and 1, every CALL valid by its schema', async (t) => {
  const { rig, cs, cp } = await loopbackRig(t);
  await until(rig, () => cp.online && cs.callsOf('StatusNotification').length >= 2);
  t.equal(cp.bootState, 'Accepted');
  t.same(
    cs
      .callsOf('StatusNotification')
      .map((call) => call.payload as { connectorId: number; status: string })
      .map(({ connectorId, status }) => [connectorId, status]),
    [
      [0, 'Available'],
      [1, 'Available'],
    ],
  );
  t.same(
    cs.calls.filter((call) => call.violation !== null),
    [],
    'the strict central system found nothing to refuse',
  );
});

t.test('over the loopback: a Heartbeat at the interval Boot gave, on the simulated clock', async (t) => {
  const { rig, cs, cp } = await loopbackRig(t);
  await until(rig, () => cp.online);
  const bootAtMs = rig.clock.now();
  await until(rig, () => cs.callsOf('Heartbeat').length > 0, 120_000);
  const afterS = (rig.clock.now() - bootAtMs) / 1000;
  t.ok(afterS >= 59 && afterS <= 61, `first Heartbeat ${afterS} s after Boot (interval 60 s)`);
});

t.test('over the loopback: the central system calls the charge point and gets its answer; a reconnect boots no more', async (t) => {
  const { rig, cs, cp } = await loopbackRig(t);
  await until(rig, () => cp.online);
  let answer: unknown = null;
  void cs.call('ChangeAvailability', { connectorId: 0, type: 'Inoperative' }).then((result) => (answer = result));
  await until(rig, () => answer !== null);
  t.same(answer, { status: 'Accepted' });
  await until(rig, () => cs.callsOf('StatusNotification').some((call) => (call.payload as { status: string }).status === 'Unavailable'));
  cp.session.link.reconnect('test');
  t.notOk(cs.connected, 'the link closed');
  await until(rig, () => cs.connected && cp.online);
  t.equal(cs.callsOf('BootNotification').length, 1, 'Boot once per start: the reconnect resumes');
});

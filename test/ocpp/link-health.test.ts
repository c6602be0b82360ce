import t from 'tap';
import { ocppRigFor } from '../helpers/ocpp-rig.js';
import { everDuring, rigLogs } from '../helpers/rig-extras.js';

/**
 * The clock from the central system, answers outside the schema, and a backend that stops
 * answering heartbeats; in process on the simulated clock (the 30 s call timeout passes in a moment).
 */

t.test(
  "the OCPP clock follows BootNotification's currentTime when the host clock is not synchronised (sim.clockSynced false)",
  async (t) => {
    let dayAhead = '';
    const rig = await ocppRigFor(t, {
      config: { sim: { clockSynced: false } },
      prepare: (cs) =>
        (cs.handlers.BootNotification = () => {
          dayAhead = new Date(Date.now() + 86_400_000).toISOString();
          return { status: 'Accepted', interval: 300, currentTime: dayAhead };
        }),
    });
    const boot = await rig.waitCall('BootNotification');
    const status = await rig.waitCall('StatusNotification');
    // Stamped after the clock took currentTime (which was after Boot arrived), before the status
    // arrived: at most the box's time between the two arrivals past dayAhead. A fixed bound failed
    // under load, where the rig's clock runs on while it waits for the sockets.
    const skewMs = Date.parse(String(status.params['timestamp'])) - Date.parse(dayAhead);
    const withinMs = status.atMs - boot.atMs;
    t.ok(
      skewMs >= 0 && skewMs <= withinMs,
      `StatusNotification stamped ${String(status.params['timestamp'])}, ${skewMs} ms past currentTime (≤ ${withinMs})`,
    );
  },
);

t.test(
  'an Authorize answer outside the schema fails the call: the offline rules decide (an unknown card is refused, the fixed tag charges)',
  async (t) => {
    const logs = rigLogs();
    const rig = await ocppRigFor(t, {
      strict: false,
      log: logs.logger,
      ocpp: { fixedIdTag: 'FIXED01' },
      prepare: (cs) => (cs.handlers.Authorize = () => ({ idTagInfo: { status: 'Maybe' } })),
    });
    rig.car('C');
    await rig.waitCall('Authorize');
    const start = await rig.waitCall('StartTransaction');
    t.equal(start.params['idTag'], 'FIXED01', 'the fixed idTag counts as authorised locally');
    await rig.pace(() => rig.plant.contactorCommanded);
    t.ok(logs.find((l) => l['msg'] === 'invalid CALLRESULT: the call failed'));
    const from = rig.cs.calls.length;
    rig.card('FIXED01'); // the same tag again stops
    await rig.waitCall('StopTransaction', () => true, from);
    rig.card('STRANGER');
    await rig.waitCall('Authorize', (p) => p['idTag'] === 'STRANGER', from);
    // Nothing to await for "no start": give it time to go wrong.
    t.notOk(await everDuring(rig, 2000, () => rig.since(from, 'StartTransaction').length > 0), 'an unknown card is refused');
  },
);

t.test('a backend that stops answering heartbeats: the link is replaced after the call timeout', async (t) => {
  const logs = rigLogs();
  const rig = await ocppRigFor(t, {
    log: logs.logger,
    prepare: (cs) => (cs.handlers.BootNotification = () => ({ status: 'Accepted', interval: 1, currentTime: new Date().toISOString() })),
  });
  await rig.waitCall('Heartbeat');
  rig.cs.handlers.Heartbeat = () => new Promise(() => {});
  const isReplaced = (l: Record<string, unknown>): boolean => l['msg'] === 'OCPP link replaced';
  await rig.pace(() => logs.find(isReplaced) !== undefined, 45_000);
  t.equal(logs.find(isReplaced)?.['reason'], 'heartbeat unanswered');
  await rig.pace(() => rig.cs.connections.length >= 2, 10_000);
  t.pass('a new connection was made');
});

import t, { type Test } from 'tap';
import { startCentralSystem } from '../helpers/central-system.js';
import { pollUntil, startBoxFor } from '../helpers/firmware-process.js';

/** The clock from the central system, answers outside the schema, and a backend that stops answering heartbeats. */

async function rig(t: Test, strict: boolean, ocpp: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const cs = await startCentralSystem({ strict });
  t.teardown(() => cs.close());
  const box = await startBoxFor(t, { ocpp: { url: cs.url, chargeBoxId: 'box-1', fixedIdTag: '', ...ocpp }, ...extra });
  return { cs, box };
}

t.test(
  "the OCPP clock follows BootNotification's currentTime when the host clock is not synchronised (sim.clockSynced false)",
  async (t) => {
    const { cs } = await rig(t, true, {}, { sim: { controlPort: 0, clockSynced: false } });
    const dayAhead = new Date(Date.now() + 86_400_000).toISOString();
    cs.handlers.BootNotification = () => ({ status: 'Accepted', interval: 300, currentTime: dayAhead });
    const status = await cs.waitForCall('StatusNotification');
    const skewMs = Date.parse(String(status.params['timestamp'])) - Date.parse(dayAhead);
    t.ok(skewMs >= 0 && skewMs < 5000, `StatusNotification stamped ${String(status.params['timestamp'])}`);
  },
);

t.test(
  'an Authorize answer outside the schema fails the call: the offline rules decide (an unknown card is refused, the fixed tag charges)',
  async (t) => {
    const { cs, box } = await rig(t, false, { fixedIdTag: 'FIXED01' });
    cs.handlers.Authorize = () => ({ idTagInfo: { status: 'Maybe' } });
    await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1);
    await box.simPost('/sim/ev', { state: 'C' });
    await cs.waitForCall('Authorize');
    const start = await cs.waitForCall('StartTransaction');
    t.equal(start.params['idTag'], 'FIXED01', 'the fixed idTag counts as authorised locally');
    await pollUntil(box.sim, (s) => s['relayClosed'] === true);
    t.ok(box.fw.logs.some((l) => l['msg'] === 'invalid CALLRESULT: the call failed'));
    const from = cs.calls.length;
    await box.simPost('/sim/rfid', { idTag: 'FIXED01' }); // the same tag again stops
    await cs.waitForCall('StopTransaction', () => true, { from });
    await box.simPost('/sim/rfid', { idTag: 'STRANGER' });
    await cs.waitForCall('Authorize', (p) => p['idTag'] === 'STRANGER', { from });
    await new Promise((resolve) => setTimeout(resolve, 500)); // nothing to await for "no start": give it time to go wrong
    t.notOk(
      cs.calls.slice(from).some((c) => c.action === 'StartTransaction'),
      'an unknown card is refused',
    );
  },
);

t.test('a backend that stops answering heartbeats: the link is replaced after the call timeout', async (t) => {
  t.setTimeout(60_000);
  const { cs, box } = await rig(t, true);
  cs.handlers.BootNotification = () => ({ status: 'Accepted', interval: 1, currentTime: new Date().toISOString() });
  await cs.waitForCall('Heartbeat');
  cs.handlers.Heartbeat = () => new Promise(() => {});
  const replaced = await box.fw.waitForLog((l) => l['msg'] === 'OCPP link replaced', 45_000);
  t.equal(replaced['reason'], 'heartbeat unanswered');
  await pollUntil(
    async () => cs.connections.length,
    (n) => n >= 2,
    10_000,
  );
  t.pass('a new connection was made');
});

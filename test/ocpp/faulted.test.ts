import t from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { pollUntil, startBox, type RunningBox } from '../helpers/firmware-process.js';

/** Faults reach the backend as StatusNotification Faulted with CONTRACT §5's error codes. */

let cs: CentralSystem;
let box: RunningBox;
t.before(async () => {
  cs = await startCentralSystem();
  box = await startBox(t.testdir({}), { ocpp: { url: cs.url, chargeBoxId: 'box-1', fixedIdTag: 'FIXED01' } });
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1 && p['status'] === 'Available');
});
t.teardown(async () => {
  await box?.fw.kill();
  await cs?.close();
});

const connector1 = (status: string, errorCode: string) => (p: Record<string, unknown>) =>
  p['connectorId'] === 1 && p['status'] === status && p['errorCode'] === errorCode;

t.test('an RCD trip while charging: the transaction goes on, the connector is Faulted with GroundFailure', async (t) => {
  const from = cs.calls.length;
  await box.simPost('/sim/ev', { state: 'C' });
  await cs.waitForCall('StatusNotification', connector1('Charging', 'NoError'), { from });
  await box.simPost('/sim/fault', { kind: 'rcd' });
  await cs.waitForCall('StatusNotification', connector1('Faulted', 'GroundFailure'), { from });
  t.equal((await box.sim())['relayClosed'], false);
  await box.simPost('/sim/fault', { kind: 'none' });
  await box.simPost('/sim/ev', { state: 'A' });
  await cs.waitForCall('StopTransaction', (p) => p['reason'] === 'EVDisconnected', { from });
  await cs.waitForCall('StatusNotification', connector1('Available', 'NoError'), { from });
});

t.test('a lost meter while charging: Charging with errorCode PowerMeterFailure, back to NoError when it returns', async (t) => {
  const from = cs.calls.length;
  await box.simPost('/sim/ev', { state: 'C' });
  await cs.waitForCall('StatusNotification', connector1('Charging', 'NoError'), { from });
  await box.simPost('/sim/fault', { kind: 'meterLost' });
  await cs.waitForCall('StatusNotification', connector1('Charging', 'PowerMeterFailure'), { from, timeoutMs: 15_000 });
  await box.simPost('/sim/fault', { kind: 'none' });
  await cs.waitForCall('StatusNotification', connector1('Charging', 'NoError'), { from: cs.calls.length - 1 });
  t.equal((await box.sim())['relayClosed'], true, 'charging never stopped');
  await box.simPost('/sim/ev', { state: 'A' });
});

t.test('a CP short with a car plugged in: Faulted EVCommunicationError until the unplug', async (t) => {
  const from = cs.calls.length;
  await box.simPost('/sim/ev', { state: 'B' });
  await box.simPost('/sim/fault', { kind: 'cpShort' });
  await cs.waitForCall('StatusNotification', connector1('Faulted', 'EVCommunicationError'), { from });
  const held = await pollUntil(box.sim, (s) => s['pilot'] === 'x1', 2000);
  t.equal(held['relayClosed'], false, 'state F held, then +12 V waiting for the unplug, never energised');
  await box.simPost('/sim/fault', { kind: 'none' });
  await box.simPost('/sim/ev', { state: 'A' });
  await cs.waitForCall('StatusNotification', connector1('Available', 'NoError'), { from: cs.calls.length - 1 });
});

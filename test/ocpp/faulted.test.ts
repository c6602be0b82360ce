import t from 'tap';
import type { Test } from 'tap';
import { ocppRigFor, type OcppRig } from '../helpers/ocpp-rig.js';

/**
 * Faults reach the backend as StatusNotification Faulted with CONTRACT §5's error codes; in
 * process on the simulated board and clock.
 */

const boxFor = (t: Test): Promise<OcppRig> => ocppRigFor(t, { ocpp: { chargeBoxId: 'box-1', fixedIdTag: 'FIXED01' } });

const connector1 = (status: string, errorCode: string) => (p: Record<string, unknown>) =>
  p['connectorId'] === 1 && p['status'] === status && p['errorCode'] === errorCode;

t.test('an RCD trip while charging: the transaction goes on, the connector is Faulted with GroundFailure', async (t) => {
  const rig = await boxFor(t);
  const from = rig.cs.calls.length;
  rig.car('C');
  await rig.waitCall('StatusNotification', connector1('Charging', 'NoError'), from);
  rig.plant.setFault('rcd');
  await rig.waitCall('StatusNotification', connector1('Faulted', 'GroundFailure'), from);
  t.equal(rig.plant.contactorCommanded, false);
  rig.plant.setFault('none');
  rig.car('A');
  await rig.waitCall('StopTransaction', (p) => p['reason'] === 'EVDisconnected', from);
  await rig.waitCall('StatusNotification', connector1('Available', 'NoError'), from);
});

t.test('a lost meter while charging: Charging with errorCode PowerMeterFailure, back to NoError when it returns', async (t) => {
  const rig = await boxFor(t);
  const from = rig.cs.calls.length;
  rig.car('C');
  await rig.waitCall('StatusNotification', connector1('Charging', 'NoError'), from);
  rig.plant.setFault('meterLost');
  await rig.waitCall('StatusNotification', connector1('Charging', 'PowerMeterFailure'), from, 15_000);
  rig.plant.setFault('none');
  await rig.waitCall('StatusNotification', connector1('Charging', 'NoError'), rig.cs.calls.length - 1);
  t.equal(rig.plant.contactorCommanded, true, 'charging never stopped');
  rig.car('A');
});

t.test('a CP short with a car plugged in: Faulted EVCommunicationError until the unplug', async (t) => {
  const rig = await boxFor(t);
  const from = rig.cs.calls.length;
  rig.car('B');
  rig.plant.setFault('cpShort');
  await rig.waitCall('StatusNotification', connector1('Faulted', 'EVCommunicationError'), from);
  let everClosed = false;
  await rig.pace(() => {
    everClosed ||= rig.plant.contactorCommanded;
    return rig.plant.pilot.mode === 'x1';
  }, 2000);
  t.equal(everClosed, false, 'state F held, then +12 V waiting for the unplug, never energised');
  rig.plant.setFault('none');
  rig.car('A');
  await rig.waitCall('StatusNotification', connector1('Available', 'NoError'), rig.cs.calls.length - 1);
});

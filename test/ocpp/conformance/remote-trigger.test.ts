import t from 'tap';
import { ocppRigFor } from '../../helpers/ocpp-rig.js';

/**
 * OCA OCPP 1.6 charge-point test cases, Remote Trigger profile (TriggerMessage), on the simulated
 * board and clock against the strict independent central system.
 */

t.test(
  'TriggerMessage StatusNotification sends the status again though unchanged; MeterValues sends one with context Trigger',
  async (t) => {
    const rig = await ocppRigFor(t);
    let from = rig.cs.calls.length;
    t.same(await rig.call('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 }), { status: 'Accepted' });
    t.match((await rig.waitStatus('Available', from)).params, { connectorId: 1, errorCode: 'NoError' });
    from = rig.cs.calls.length;
    t.same(await rig.call('TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 }), { status: 'Accepted' });
    const values = await rig.waitCall('MeterValues', () => true, from);
    t.equal(values.params['meterValue'][0]['sampledValue'][0]['context'], 'Trigger');
  },
);

t.test('TriggerMessage Heartbeat while Boot is Accepted: Accepted, a Heartbeat follows', async (t) => {
  const rig = await ocppRigFor(t);
  const from = rig.cs.calls.length;
  t.same(await rig.call('TriggerMessage', { requestedMessage: 'Heartbeat' }), { status: 'Accepted' });
  await rig.waitCall('Heartbeat', () => true, from);
});

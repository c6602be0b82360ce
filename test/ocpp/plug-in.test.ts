import t from 'tap';
import { simSnapshot } from '../../board/sim-control-api.js';
import { startCentralSystem } from '../helpers/central-system.js';
import { pollUntil, startBoxFor } from '../helpers/firmware-process.js';
import { tcpClient } from '../helpers/modbus-client.js';
import { ocppRigFor } from '../helpers/ocpp-rig.js';
import { carSteps, rigLogs, settled } from '../helpers/rig-extras.js';

/**
 * CONTRACT §5 against the strict central system: the fixed-idTag plug-in. In process on the
 * simulated board and clock, the cases in order on one box (Modbus TCP a real client on
 * loopback); SIGTERM during a transaction on the built firmware, where the signal is the point.
 */

t.test('the fixed-idTag plug-in, one box', async (t) => {
  const logs = rigLogs('info');
  const rig = await ocppRigFor(t, {
    log: logs.logger,
    config: { modbus: { tcp: { host: '127.0.0.1', port: 0 } } },
    ocpp: { chargeBoxId: 'box-1', password: 'secret-key', fixedIdTag: 'FIXED01' },
  });
  logs.useClock(rig.clock);
  const { cs } = rig;
  const { relayIs } = carSteps(rig);
  const statusOf1 = (status: string) => (p: Record<string, any>) => p['connectorId'] === 1 && p['status'] === status;

  await t.test(
    'connects to url + chargeBoxId with ocpp1.6 and Basic auth; Boot first, then the status of connectors 0 and 1',
    async (t) => {
      const boot = await rig.waitCall('BootNotification');
      t.equal(cs.calls[0]?.action, 'BootNotification', 'nothing before Boot');
      t.match(boot.params, {
        chargePointVendor: 'SmartWallbox',
        chargePointModel: 'SW-Controller-1',
        chargePointSerialNumber: 'SIM-000001',
        firmwareVersion: '0.1.0',
      });
      t.same(cs.connections[0], { identity: 'box-1', password: 'secret-key', protocol: 'ocpp1.6', secure: false, clientCertificate: null });
      await rig.waitCall('StatusNotification', (p) => p['connectorId'] === 0 && p['status'] === 'Available');
      await rig.waitStatus('Available');
      t.notOk(
        logs.lines.some((l) => JSON.stringify(l).includes('secret-key')),
        'the password never reaches a log',
      );
    },
  );

  await t.test(
    'plug-in with the fixed idTag: Authorize, StartTransaction, Charging, MeterValues, unplug, StopTransaction(EVDisconnected), Available',
    async (t) => {
      t.same(await rig.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '1' }), { status: 'Accepted' });
      const from = cs.calls.length;
      rig.car('C');
      const authorize = await rig.waitCall('Authorize', () => true, from);
      t.same(authorize.params, { idTag: 'FIXED01' });
      const start = await rig.waitCall('StartTransaction', () => true, from);
      t.match(start.params, { connectorId: 1, idTag: 'FIXED01' });
      t.type(start.params['meterStart'], 'number');
      await rig.waitStatus('Charging', from);
      await relayIs(true);
      t.equal(simSnapshot(rig.plant)['offeredCurrentA'], 32);
      const meterValues = await rig.waitCall('MeterValues', (p) => p['transactionId'] !== undefined, from);
      const sampled = meterValues.params['meterValue'][0].sampledValue as Array<Record<string, string>>;
      t.ok(sampled.some((v) => v['measurand'] === 'Energy.Active.Import.Register' && v['unit'] === 'Wh'));
      t.ok(sampled.some((v) => v['measurand'] === 'Current.Import' && v['phase'] === 'L1'));
      t.ok(sampled.some((v) => v['measurand'] === 'Current.Offered' && v['value'] === '32.0'));

      const beforeStop = cs.calls.length;
      rig.car('A');
      const stop = await rig.waitCall('StopTransaction', () => true, beforeStop);
      t.match(stop.params, { reason: 'EVDisconnected', idTag: 'FIXED01' });
      t.ok(stop.params['meterStop'] > start.params['meterStart'], 'energy was charged');
      await rig.waitStatus('Available', beforeStop);
      const order = cs.calls
        .slice(from)
        .filter((c) => c.params['connectorId'] !== 0 && c.action !== 'MeterValues' && c.action !== 'Heartbeat')
        .map((c) => (c.action === 'StatusNotification' ? c.params['status'] : c.action));
      const at = (step: string) => order.indexOf(step);
      t.ok(
        at('Preparing') < at('Authorize') &&
          at('Authorize') < at('StartTransaction') &&
          at('StartTransaction') < at('Charging') &&
          at('Charging') < at('StopTransaction') &&
          at('StopTransaction') < order.lastIndexOf('Available'),
        `sequence: ${order.join(' → ')}`,
      );
      t.ok(at('Preparing') >= 0 && at('Charging') >= 0);
    },
  );

  await t.test('Modbus 8094 = 0 during a transaction suspends it (SuspendedEVSE) without stopping it; 8096 shows the idTag', async (t) => {
    const port = Number(logs.find((l) => l['msg'] === 'Modbus TCP listening')?.['port']);
    const modbus = await tcpClient(port);
    t.teardown(() => modbus.close(() => {}));
    const from = cs.calls.length;
    rig.car('C');
    await rig.waitCall('StatusNotification', statusOf1('Charging'), from);
    const words = (await settled(rig, modbus.readHoldingRegisters(8096, 15))).data;
    const tag = Buffer.from(words.flatMap((w) => [w >> 8, w & 0xff]))
      .toString('latin1')
      .replace(/\0+$/, '');
    t.equal(tag, 'FIXED01', '8096');
    await settled(rig, modbus.writeRegister(8094, 0));
    await rig.waitCall('StatusNotification', statusOf1('SuspendedEVSE'), from);
    await relayIs(false);
    await settled(rig, modbus.writeRegister(8094, 1));
    const back = cs.calls.length;
    await rig.waitCall('StatusNotification', statusOf1('Charging'), back, 15_000);
    t.notOk(
      cs.calls.slice(from).some((c) => c.action === 'StopTransaction'),
      'the transaction went on',
    );
  });

  await t.test('clock-aligned meter values carry context Sample.Clock and the transaction id', async (t) => {
    t.same(await rig.call('ChangeConfiguration', { key: 'ClockAlignedDataInterval', value: '1' }), { status: 'Accepted' });
    const aligned = await rig.waitCall(
      'MeterValues',
      (p) => p['meterValue'][0].sampledValue[0].context === 'Sample.Clock',
      cs.calls.length,
    );
    t.type(aligned.params['transactionId'], 'number');
    t.equal(aligned.params['meterValue'][0].sampledValue[0].measurand, 'Energy.Active.Import.Register');
    t.same(await rig.call('ChangeConfiguration', { key: 'ClockAlignedDataInterval', value: '0' }), { status: 'Accepted' });
  });

  await t.test(
    'Reset while charging: StopTransaction(SoftReset), a new Boot, then, as at any boot, a new transaction for the car still plugged in (charged by morning)',
    async (t) => {
      const from = cs.calls.length;
      t.same(await rig.call('Reset', { type: 'Soft' }), { status: 'Accepted' });
      const stop = await rig.waitCall('StopTransaction', () => true, from);
      t.match(stop.params, { reason: 'SoftReset', idTag: 'FIXED01' });
      const boot = await rig.waitCall('BootNotification', () => true, from);
      const afterBoot = cs.calls.indexOf(boot);
      const start = await rig.waitCall('StartTransaction', () => true, afterBoot);
      t.match(start.params, { connectorId: 1, idTag: 'FIXED01' });
      t.ok(start.params['meterStart'] >= stop.params['meterStop'], 'the meter goes on from the stop');
      await rig.waitStatus('Charging', cs.calls.indexOf(start));
      await relayIs(true);
      t.notOk(
        rig.since(afterBoot).some((c) => c.action === 'StatusNotification' && c.params['status'] === 'Finishing'),
        'no Finishing after the reboot: a new transaction, not the old one ending',
      );
    },
  );
});

t.test('SIGTERM during a transaction: StopTransaction with reason Reboot, then exit 0', async (t) => {
  const cs = await startCentralSystem();
  t.teardown(() => cs.close());
  const box = await startBoxFor(t, { ocpp: { url: cs.url, chargeBoxId: 'box-1', password: 'secret-key', fixedIdTag: 'FIXED01' } });
  await box.simPost('/sim/ev', { state: 'C' });
  await pollUntil(box.sim, (s) => s['relayClosed'] === true, 10_000);
  const from = cs.calls.length;
  t.equal(await box.fw.stop(), 0);
  const stop = await cs.waitForCall('StopTransaction', () => true, { from, timeoutMs: 2000 });
  t.equal(stop.params['reason'], 'Reboot');
});

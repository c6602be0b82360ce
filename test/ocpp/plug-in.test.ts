import t from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { pollUntil, startBox, type RunningBox } from '../helpers/firmware-process.js';

/** CONTRACT §5 on the built firmware against the strict central system: the fixed-idTag plug-in. */

let cs: CentralSystem;
let box: RunningBox;
t.before(async () => {
  cs = await startCentralSystem();
  box = await startBox(t.testdir({}), { ocpp: { url: cs.url, chargeBoxId: 'box-1', password: 'secret-key', fixedIdTag: 'FIXED01' } });
});
t.teardown(async () => {
  await box?.fw.kill();
  await cs?.close();
});

t.test('connects to url + chargeBoxId with ocpp1.6 and Basic auth; Boot first, then the status of connectors 0 and 1', async (t) => {
  const boot = await cs.waitForCall('BootNotification');
  t.equal(cs.calls[0]?.action, 'BootNotification', 'nothing before Boot');
  t.match(boot.params, {
    chargePointVendor: 'SmartWallbox',
    chargePointModel: 'SW-Controller-1',
    chargePointSerialNumber: 'SIM-000001',
    firmwareVersion: '0.1.0',
  });
  t.same(cs.connections[0], { identity: 'box-1', password: 'secret-key', protocol: 'ocpp1.6', secure: false, clientCertificate: null });
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 0 && p['status'] === 'Available');
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1 && p['status'] === 'Available');
  t.notOk(
    box.fw.logs.some((l) => JSON.stringify(l).includes('secret-key')),
    'the password never reaches a log',
  );
});

t.test(
  'plug-in with the fixed idTag: Authorize, StartTransaction, Charging, MeterValues, unplug, StopTransaction(EVDisconnected), Available',
  async (t) => {
    t.same(await cs.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '1' }), { status: 'Accepted' });
    const from = cs.calls.length;
    await box.simPost('/sim/ev', { state: 'C' });
    const authorize = await cs.waitForCall('Authorize', () => true, { from });
    t.same(authorize.params, { idTag: 'FIXED01' });
    const start = await cs.waitForCall('StartTransaction', () => true, { from });
    t.match(start.params, { connectorId: 1, idTag: 'FIXED01' });
    t.type(start.params['meterStart'], 'number');
    await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1 && p['status'] === 'Charging', { from });
    const sim = await pollUntil(box.sim, (s) => s['relayClosed'] === true);
    t.equal(sim['offeredCurrentA'], 32);
    const meterValues = await cs.waitForCall('MeterValues', (p) => p['transactionId'] !== undefined, { from });
    const sampled = meterValues.params['meterValue'][0].sampledValue as Array<Record<string, string>>;
    t.ok(sampled.some((v) => v['measurand'] === 'Energy.Active.Import.Register' && v['unit'] === 'Wh'));
    t.ok(sampled.some((v) => v['measurand'] === 'Current.Import' && v['phase'] === 'L1'));
    t.ok(sampled.some((v) => v['measurand'] === 'Current.Offered' && v['value'] === '32.0'));

    const beforeStop = cs.calls.length;
    await box.simPost('/sim/ev', { state: 'A' });
    const stop = await cs.waitForCall('StopTransaction', () => true, { from: beforeStop });
    t.match(stop.params, { reason: 'EVDisconnected', idTag: 'FIXED01' });
    t.ok(stop.params['meterStop'] > start.params['meterStart'], 'energy was charged');
    await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1 && p['status'] === 'Available', { from: beforeStop });
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

t.test('Modbus 8094 = 0 during a transaction suspends it (SuspendedEVSE) without stopping it; 8096 shows the idTag', async (t) => {
  const { tcpClient } = await import('../helpers/modbus-client.js');
  const modbus = await tcpClient(box.modbusPort);
  t.teardown(() => modbus.close(() => {}));
  const from = cs.calls.length;
  await box.simPost('/sim/ev', { state: 'C' });
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1 && p['status'] === 'Charging', { from });
  const tag = Buffer.from((await modbus.readHoldingRegisters(8096, 15)).data.flatMap((w) => [w >> 8, w & 0xff]))
    .toString('latin1')
    .replace(/\0+$/, '');
  t.equal(tag, 'FIXED01', '8096');
  await modbus.writeRegister(8094, 0);
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1 && p['status'] === 'SuspendedEVSE', { from });
  await pollUntil(box.sim, (s) => s['relayClosed'] === false, 5000);
  await modbus.writeRegister(8094, 1);
  const back = cs.calls.length;
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1 && p['status'] === 'Charging', {
    from: back,
    timeoutMs: 15_000,
  });
  t.notOk(
    cs.calls.slice(from).some((c) => c.action === 'StopTransaction'),
    'the transaction went on',
  );
});

t.test('clock-aligned meter values carry context Sample.Clock and the transaction id', async (t) => {
  t.same(await cs.call('ChangeConfiguration', { key: 'ClockAlignedDataInterval', value: '1' }), { status: 'Accepted' });
  const aligned = await cs.waitForCall('MeterValues', (p) => p['meterValue'][0].sampledValue[0].context === 'Sample.Clock', {
    from: cs.calls.length,
  });
  t.type(aligned.params['transactionId'], 'number');
  t.equal(aligned.params['meterValue'][0].sampledValue[0].measurand, 'Energy.Active.Import.Register');
  t.same(await cs.call('ChangeConfiguration', { key: 'ClockAlignedDataInterval', value: '0' }), { status: 'Accepted' });
});

t.test('SIGTERM during a transaction: StopTransaction with reason Reboot, then exit 0', async (t) => {
  const from = cs.calls.length;
  await pollUntil(box.sim, (s) => s['relayClosed'] === true, 10_000);
  t.equal(await box.fw.stop(), 0);
  const stop = await cs.waitForCall('StopTransaction', () => true, { from, timeoutMs: 2000 });
  t.equal(stop.params['reason'], 'Reboot');
});

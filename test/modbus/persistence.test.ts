import t from 'tap';
import { storedJson } from '../helpers/damage.js';
import { join } from 'node:path';
import { boxRig } from '../helpers/box-rig.js';
import { tcpClient } from '../helpers/modbus-client.js';

/**
 * 8040 and 8081 survive a restart (in the dataDir overlay); 8093 and 8094 do not. The box
 * in-process (box-rig.ts), started three times on the same dataDir: what is kept is on disk.
 */

t.test('8040 and 8081 persist across a restart, 8093/8094 start again from 8081 and 1; a changed file wins', async (t) => {
  const dir = t.testdir({});
  const first = await boxRig(dir);
  t.teardown(() => first.close());
  const c1 = await tcpClient(Number(first.modbusPort), 1);
  await c1.writeRegister(8081, 100);
  await c1.writeRegister(8093, 200);
  await c1.writeRegister(8094, 0);
  await c1.writeRegister(8040, 5);
  c1.setID(5);
  t.same((await c1.readHoldingRegisters(8040, 1)).data, [5], 'answers unit 5 after the reply to the change');
  c1.setID(7);
  await t.rejects(c1.readHoldingRegisters(8040, 1), 'not unit 7');
  c1.close(() => {});
  await first.close();
  const overlay = storedJson(join(dir, 'data', 'config-overlay.json')) as Record<string, { value: unknown }>;
  t.same([overlay['modbus.unitId']?.value, overlay['modbus.bootCurrentA']?.value], [5, 10]);

  const second = await boxRig(dir);
  t.teardown(() => second.close());
  const c2 = await tcpClient(Number(second.modbusPort), 5);
  t.same((await c2.readHoldingRegisters(8080, 2)).data, [320, 100], '8081 kept');
  t.same((await c2.readHoldingRegisters(8093, 2)).data, [100, 1], '8093 = 8081, 8094 = 1 after the restart');
  c2.close(() => {});
  await second.close();

  const third = await boxRig(dir, { modbus: { unitId: 9 } });
  t.teardown(() => third.close());
  const c3 = await tcpClient(Number(third.modbusPort), 9);
  t.same((await c3.readHoldingRegisters(8040, 1)).data, [9], 'the installer changed modbus.unitId in the file: the file wins');
  t.same((await c3.readHoldingRegisters(8081, 1)).data, [100], 'the other run-time value stays');
  c3.close(() => {});
  await third.close();
});

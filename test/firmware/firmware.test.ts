import t from 'tap';
import { parseConfig } from '../../firmware/config.js';
import { Firmware } from '../../firmware/firmware.js';
import { silentLogger } from '../../firmware/log.js';
import { FaultLog } from '../../firmware/safety/fault-log.js';
import { createSimHal } from '../../hal/sim/peripherals.js';
import { SimPlant } from '../../hal/sim/plant.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';

t.test('the firmware status shows the charging state, the faults in force and the fault history', async (t) => {
  const dataDir = t.testdir({});
  const clock = new SimulatedClock();
  const plant = new SimPlant({ clock, wiredPhases: 3, voltageV: 230 });
  const config = parseConfig({ dataDir, modbus: { tcp: null } });
  const firmware = new Firmware({
    config,
    hal: createSimHal(plant),
    clock,
    log: silentLogger,
    faultLog: await FaultLog.load(dataDir, silentLogger),
  });
  await firmware.start();
  plant.configureEv({ state: 'C' });
  clock.advanceUntil(() => plant.contactorCommanded, 5000);
  plant.setFault('rcd');
  clock.advance(10);
  const status = firmware.status();
  t.equal(status.contactorClosed, false);
  t.same(
    status.faults.map((f) => f.kind),
    ['rcd'],
  );
  t.equal(status.faultHistory.length, 1);
  t.match(status.faultHistory[0], { kind: 'rcd', cause: 'residual current detector tripped', clearedAtMs: null });
  t.ok((status.faultHistory[0]?.sinceMs ?? 0) > 0, 'with its time');
  // Stopped before the test folder goes: a state file written after it went would make it again.
  await firmware.stop();
});

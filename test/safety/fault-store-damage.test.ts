import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createLogger, silentLogger } from '../../firmware/log.js';
import { connectorStatus } from '../../firmware/ocpp/model/connector-status.js';
import { FaultLog } from '../../firmware/safety/fault-log.js';
import { DAMAGES } from '../helpers/damage.js';
import { simRig, type Rig } from '../helpers/sim-rig.js';

/**
 * CONTRACT §6: a fault latch counts as latched until an installer clears it, also when
 * `faults.json` cannot be read back. A welded contactor is latched by a real run, the file is
 * damaged five ways, and the next start must never close the contactor.
 */

function everClosedWithin(rig: Rig, ms: number): boolean {
  let closed = false;
  for (let i = 0; i < ms; i += 5) {
    rig.clock.advance(5);
    closed ||= rig.closed();
  }
  return closed;
}

/** A dataDir whose faults.json holds a welded-contactor latch written by the charging core. */
async function weldedDataDir(dataDir: string): Promise<void> {
  const faultLog = await FaultLog.load(dataDir, silentLogger);
  const rig = simRig({ faultLog });
  rig.plant.setFault('relayWeld');
  rig.until(() => rig.faults().includes('contactorWelded'), 1000);
  await faultLog.flush();
}

for (const [damage, apply] of Object.entries(DAMAGES)) {
  t.test(`faults.json ${damage}: latched (storage) across the restart until an installer clears it`, async (t) => {
    const dataDir = t.testdir({});
    await weldedDataDir(dataDir);
    const path = join(dataDir, 'faults.json');
    // The weld's own write replaced the empty first generation: drop .prev so that only the
    // damaged file tells of the latch (the worst case: nothing readable is left).
    rmSync(`${path}.prev`, { force: true });
    apply(path);

    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({ level: 'warn', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const reloaded = await FaultLog.load(dataDir, log);
    t.same(
      reloaded.latched.map((f) => [f.kind, f.latch]),
      [['storage', 'installer']],
      'an unreadable store counts as latched',
    );
    t.ok(
      lines.some(
        (l) => l['level'] === 'error' && l['msg'] === 'fault store unreadable: latched as a storage fault until an installer clears it',
      ),
      'logged at error',
    );
    await reloaded.flush();
    t.ok(existsSync(`${path}.corrupt`), 'the damaged file is set aside once the latch is on disk');
    t.same(
      (await FaultLog.load(dataDir, silentLogger)).latched.map((f) => f.kind),
      ['storage'],
      'and the latch survives the next restart too',
    );

    const rig = simRig({ faultLog: reloaded });
    rig.plant.configureEv({ state: 'C' });
    t.equal(everClosedWithin(rig, 30_000), false, 'the contactor never closes');
    const status = rig.controller.status();
    t.equal(status.pilot.mode, 'x1', 'no PWM');
    t.equal(status.offer.pausedBy, 'fault');
    t.same(
      connectorStatus({ charging: status, transactionRunning: false, finishing: false, inoperative: false, reserved: false }),
      { status: 'Faulted', errorCode: 'InternalError', info: 'fault store unreadable; installer must clear' },
      'reported to OCPP as Faulted / InternalError',
    );

    await rig.controller.clearFaults();
    t.same(rig.faults(), [], 'an installer clears it');
    rig.until(() => rig.closed(), 5000);
    t.same((await FaultLog.load(dataDir, silentLogger)).latched, [], 'the clear is on disk');
  });
}

t.test('the previous generation still shows the weld: both are latched', async (t) => {
  const dataDir = t.testdir({});
  await weldedDataDir(dataDir);
  const path = join(dataDir, 'faults.json');
  writeFileSync(`${path}.prev`, readFileSync(path)); // a later write kept the weld's generation
  writeFileSync(path, '{"latched":[');
  const reloaded = await FaultLog.load(dataDir, silentLogger);
  t.same(
    reloaded.latched.map((f) => f.kind),
    ['contactorWelded', 'storage'],
  );
  // Its storage latch is being written: done before the test's folder is removed (ENOTEMPTY otherwise).
  await reloaded.flush();
});

t.test('a disk that cannot take the replacement leaves the damaged file in place: latched again at the next start', async (t) => {
  const dataDir = t.testdir({});
  await weldedDataDir(dataDir);
  const path = join(dataDir, 'faults.json');
  DAMAGES['directory']?.(path);
  writeFileSync(join(path, 'x'), ''); // a directory that is not empty: the rename over it fails
  const first = await FaultLog.load(dataDir, silentLogger);
  await first.flush();
  const second = await FaultLog.load(dataDir, silentLogger);
  t.same(
    second.latched.map((f) => f.kind),
    ['storage'],
  );
  await second.flush();
});

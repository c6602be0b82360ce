import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { startBox, type RunningBox } from '../helpers/firmware-process.js';
import { audit, keepLedger } from '../helpers/ledger.js';
import { plugIn, sleep, waitStatus } from '../helpers/ocpp-scenario.js';

/**
 * A data folder that is full (ENOSPC) or read-only (EROFS), as a small tmpfs: the box boots,
 * charges and bills from memory, logs the storage trouble once per kind, and stops cleanly.
 * Mounting needs root (CI runs as root); elsewhere the tests say they were skipped and why.
 */

/** A 1 MB tmpfs as `<tmp>/data` (outside tap's fixtures: it is unmounted before it is removed). */
function mountTmpfs(t: Test): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'wallbox-disk-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', data], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]}): needs root`, () => {});
    return null;
  }
  t.teardown(() => {
    execFileSync('umount', ['-l', data]);
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(data, 'ocpp-configuration.json'), JSON.stringify({ MeterValueSampleInterval: '1' }));
  return data;
}

async function online(t: Test, cs: CentralSystem, dir: string): Promise<RunningBox> {
  const from = cs.calls.length;
  const box = await startBox(dir, { ocpp: { url: cs.url, chargeBoxId: 'box-disk', password: '', fixedIdTag: 'FIXED' } });
  t.teardown(() => box.fw.kill());
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1, { from, timeoutMs: 15_000 });
  return box;
}

/** Charges for a few seconds and unplugs; checks the central system saw the whole transaction. */
async function chargeAndBill(t: Test, cs: CentralSystem, box: RunningBox, ledger: ReturnType<typeof keepLedger>): Promise<void> {
  const from = cs.calls.length;
  await plugIn(box);
  await waitStatus(cs, 'Charging', from);
  t.equal((await box.sim())['relayClosed'], true, 'charging');
  await sleep(3000);
  await box.simPost('/sim/ev', { state: 'A' });
  await cs.waitForCall('StopTransaction', () => true, { from });
  const result = audit(ledger);
  t.same(result.violations, []);
  t.equal(result.transactions, 1);
  t.equal(result.lost, 0);
  t.ok(result.meterValues >= 2, `${result.meterValues} meter values billed from memory`);
}

t.test('a full data folder: logged once, charging and billing go on from memory, clean stop', async (t) => {
  const data = mountTmpfs(t);
  if (data === null) return;
  const cs = await startCentralSystem();
  t.teardown(() => cs.close());
  const ledger = keepLedger(cs);
  const box = await online(t, cs, join(data, '..'));
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(data, 'filler')}`, 'bs=64k'], { stdio: 'pipe' });
  } catch {
    // dd stops with "No space left on device": that is the point
  }
  await chargeAndBill(t, cs, box, ledger);
  const failures = box.fw.logs.filter((l) => l['msg'] === 'journal write failed; kept in memory only');
  t.same(failures.map((l) => l['code']), ['ENOSPC'], 'the journal reports ENOSPC once, not per record');
  t.equal(await box.fw.stop(), 0, 'a clean stop although state.json cannot be written');
  t.ok(box.fw.logs.some((l) => l['level'] === 'error' && l['msg'] === 'not saved: in force until the next restart only'), 'the lost state file is reported');
});

t.test('a read-only data folder: the box boots from what is there, charges, bills and stops cleanly', async (t) => {
  const data = mountTmpfs(t);
  if (data === null) return;
  const cs = await startCentralSystem();
  t.teardown(() => cs.close());
  const ledger = keepLedger(cs);
  const first = await online(t, cs, join(data, '..'));
  t.equal(await first.fw.stop(), 0);
  execFileSync('mount', ['-o', 'remount,ro', data]);
  const box = await online(t, cs, join(data, '..'));
  await chargeAndBill(t, cs, box, ledger);
  t.same(
    box.fw.logs.filter((l) => l['msg'] === 'journal write failed; kept in memory only').map((l) => l['code']),
    ['EROFS'],
    'the journal reports EROFS once',
  );
  t.equal(await box.fw.stop(), 0);
});

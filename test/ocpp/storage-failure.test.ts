import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { simSnapshot } from '../../board/sim-control-api.js';
import { audit, keepLedger, type LedgerEntry } from '../helpers/ledger.js';
import { ocppRig, type OcppRig } from '../helpers/ocpp-rig.js';
import { since } from '../helpers/ocpp-scenario.js';
import { everDuring, rigLogs, settled, type RigLogs } from '../helpers/rig-extras.js';

/**
 * A data folder that is full (ENOSPC) or read-only (EROFS), as a small tmpfs: the box boots,
 * logs the storage trouble once per kind and stops cleanly; a transaction whose start cannot be
 * written gets no energy until it is (CONTRACT §6), a running one goes on with its messages
 * waiting in memory, and nothing the central system confirmed is sent twice. The firmware core
 * runs in process on the simulated board and clock with its dataDir on the tmpfs: the disk is the
 * point, not the process. Mounting needs root (CI runs as root); elsewhere the tests say they
 * were skipped and why.
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

interface Box {
  rig: OcppRig;
  logs: RigLogs;
  ledger: LedgerEntry[];
  /** Stops the rig once (the test's end, or its teardown on the way out). */
  close(): Promise<void>;
}

/** The box on `data`, online (connector 1 reported), its log lines and the central system's ledger kept. */
async function online(t: Test, data: string): Promise<Box> {
  const logs = rigLogs('info');
  let ledger: LedgerEntry[] = [];
  const rig = await ocppRig(data, {
    log: logs.logger,
    ocpp: { chargeBoxId: 'box-disk', fixedIdTag: 'FIXED' },
    prepare: (cs) => (ledger = keepLedger(cs)),
  });
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= rig.close());
  t.teardown(close);
  logs.useClock(rig.clock);
  return { rig, logs, ledger, close };
}

/** Fills the tmpfs until it reports ENOSPC. */
function fill(data: string): void {
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(data, 'filler')}`, 'bs=64k'], { stdio: 'pipe' });
  } catch {
    // dd stops with "No space left on device": that is the point
  }
}

const journalFailures = (logs: RigLogs) =>
  logs.lines.filter((l) => l['msg'] === 'journal write failed; kept in memory only').map((l) => l['code']);

/** Unplugs, waits for the StopTransaction and audits the central system's ledger. */
async function unplugAndAudit(t: Test, { rig, ledger }: Box, from: number): Promise<void> {
  rig.car('A');
  await rig.waitCall('StopTransaction', () => true, from, 20_000);
  const result = audit(ledger);
  t.same(result.violations, [], 'no violation');
  t.equal(result.transactions, 1);
  t.equal(result.lost, 0);
  t.equal(result.duplicated, 0, 'nothing sent twice');
  t.ok(result.meterValues >= 2, `${result.meterValues} meter values billed`);
}

/** Stops the firmware as SIGTERM does; what the process's exit code 0 says: the stop completes without an error. */
async function stopsCleanly(t: Test, { rig }: Box, message = 'a clean stop'): Promise<void> {
  await t.resolves(settled(rig, rig.firmware.stop(), 60_000), message);
}

t.test('a full data folder at the plug-in: the transaction is authorised but held without PWM until its start is on disk', async (t) => {
  const data = mountTmpfs(t);
  if (data === null) return;
  const box = await online(t, data);
  const { rig, logs } = box;
  fill(data);
  const from = rig.cs.calls.length;
  rig.car('C');
  await rig.pace(() => logs.find((l) => l['msg'] === 'transaction start not on disk: charging held until it is') !== undefined, 10_000);
  t.equal(await everDuring(rig, 3000, () => rig.plant.contactorCommanded), false, 'no energy without a record');
  t.equal(simSnapshot(rig.plant)['pilot'], 'x1', 'no PWM');
  t.same(since(rig.cs, from, 'StartTransaction'), [], 'nothing sent that is not on disk');
  t.same(journalFailures(logs), ['ENOSPC'], 'ENOSPC reported once, not per record');
  rmSync(join(data, 'filler'));
  await rig.waitStatus('Charging', from, 15_000);
  t.pass('once the disk takes it, the start is written, sent and charging begins');
  await rig.advance(2500);
  await unplugAndAudit(t, box, from);
  await stopsCleanly(t, box);
  await box.close();
});

t.test(
  'a data folder that fills during a transaction: charging goes on, its messages wait in memory and go out in order once written',
  async (t) => {
    const data = mountTmpfs(t);
    if (data === null) return;
    const box = await online(t, data);
    const { rig, logs } = box;
    const from = rig.cs.calls.length;
    rig.car('C');
    await rig.waitStatus('Charging', from);
    await rig.advance(1500);
    fill(data);
    await rig.pace(() => journalFailures(logs).length > 0, 10_000);
    const held = rig.cs.calls.length;
    await rig.advance(3000);
    t.equal(rig.plant.contactorCommanded, true, 'the running transaction goes on');
    t.ok(since(rig.cs, held, 'MeterValues').length <= 1, 'its meter values wait (at most the one in flight went)');
    rmSync(join(data, 'filler'));
    await rig.waitCall('MeterValues', () => true, held + 2, 15_000);
    await unplugAndAudit(t, box, from);
    await stopsCleanly(t, box);
    await box.close();
  },
);

t.test(
  'a read-only data folder: the box boots from what is there, holds a new transaction, charges once it is writable again',
  async (t) => {
    const data = mountTmpfs(t);
    if (data === null) return;
    const first = await online(t, data);
    await stopsCleanly(t, first, 'the first run stops cleanly');
    await first.close();
    execFileSync('mount', ['-o', 'remount,ro', data]);
    const box = await online(t, data);
    const { rig, logs } = box;
    const from = rig.cs.calls.length;
    rig.car('C');
    t.equal(await everDuring(rig, 3000, () => rig.plant.contactorCommanded), false, 'no energy without a record');
    t.same(journalFailures(logs), ['EROFS'], 'the journal reports EROFS once');
    execFileSync('mount', ['-o', 'remount,rw', data]);
    await rig.waitStatus('Charging', from, 15_000);
    await rig.advance(2500);
    await unplugAndAudit(t, box, from);
    await stopsCleanly(t, box);
    await box.close();
  },
);

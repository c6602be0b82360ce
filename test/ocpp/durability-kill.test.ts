import t from 'tap';
import { startCentralSystem } from '../helpers/central-system.js';
import { startBox, type RunningBox } from '../helpers/firmware-process.js';
import { audit, keepLedger, type LedgerEntry } from '../helpers/ledger.js';
import { plugIn, sleep } from '../helpers/ocpp-scenario.js';
import { prng } from '../helpers/prng.js';
import type { CentralSystem } from '../helpers/central-system.js';

/**
 * Durability of billing under SIGKILL, on the built firmware as a child process (the process
 * dying is the point) against ocpp-rpc's strict central system, in a file of its own because each
 * kill costs a boot of the bundle. The central system's ledger is audited: no StartTransaction or
 * StopTransaction lost, order, transactionIds, meter readings never backwards, duplicates only in
 * the window between sending and keeping the answer.
 */

/** SIGKILLs in a row, each at a moment of its own slot of the first KILL_WINDOW_MS of a session. */
const KILLS = 10;
const KILL_WINDOW_MS = 2500;

const SAMPLE_EVERY_SECOND = { 'ocpp-configuration.json': JSON.stringify({ MeterValueSampleInterval: '1' }) };

/** Starts the box on `dir` and waits until it is online (connector 1 reported). */
async function boxOnline(cs: CentralSystem, dir: string, chargeBoxId: string): Promise<RunningBox> {
  const from = cs.calls.length;
  const box = await startBox(dir, { ocpp: { url: cs.url, chargeBoxId, password: '', fixedIdTag: 'FIXED' } });
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1, { from, timeoutMs: 15_000 });
  return box;
}

async function settled(ledger: LedgerEntry[], timeoutMs = 30_000): Promise<ReturnType<typeof audit>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = audit(ledger);
    if (result.lost === 0 || Date.now() > deadline) return result;
    await sleep(100);
  }
}

t.test(
  `SIGKILL at ${KILLS} moments spread over the first 2.5 s of a session, restarted each time: every transaction closed, right ids, meter never backwards`,
  async (t) => {
    const dir = t.testdir({ data: SAMPLE_EVERY_SECOND });
    const cs = await startCentralSystem();
    t.teardown(() => cs.close());
    const ledger = keepLedger(cs);
    const random = prng(11);
    for (let kill = 0; kill < KILLS; kill++) {
      const box = await boxOnline(cs, dir, 'box-kill');
      await plugIn(box);
      // One kill in each of KILLS equal slots of the window, at a random moment inside it: the
      // whole window is covered (plug-in, Authorize, StartTransaction, the first meter values).
      await sleep(Math.floor(((kill + random()) * KILL_WINDOW_MS) / KILLS));
      await box.fw.kill();
    }
    const box = await boxOnline(cs, dir, 'box-kill');
    const result = await settled(ledger);
    t.equal(await box.fw.stop(), 0, 'a clean stop at the end');
    t.same(result.violations, [], 'no violation');
    t.equal(result.lost, 0, 'no transaction without its StopTransaction');
    t.ok(result.transactions >= KILLS / 2, `${result.transactions} transactions`);
    t.same(Object.keys(result.stopReasons), ['Reboot'], 'each closed at the next boot with reason Reboot (same kernel boot)');
    t.ok(result.duplicated <= KILLS, 'at most one duplicate per kill');
    t.comment(
      `${KILLS} kills: received ${result.received}, sent ${result.sent}, duplicated ${result.duplicated}, lost ${result.lost}, transactions ${result.transactions}, meter values ${result.meterValues}`,
    );
  },
);

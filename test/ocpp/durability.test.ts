import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { storedJson } from '../helpers/damage.js';
import { METER_KEEP_STEP_WH } from '../../firmware/ocpp/transactions.js';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { startBox, type RunningBox } from '../helpers/firmware-process.js';
import { audit, keepLedger, type LedgerEntry } from '../helpers/ledger.js';
import { ocppRig, ocppRigFor } from '../helpers/ocpp-rig.js';
import { plugIn, relayEverClosed, waitStatus } from '../helpers/ocpp-scenario.js';
import { prng } from '../helpers/prng.js';

/**
 * Durability of billing against ocpp-rpc's strict central system: a link that drops every few
 * seconds and a power loss (a new kernel boot id) in process on the simulated clock, and on the
 * built firmware as a child process damaged state files (the whole boot reads them: the board's
 * meter and fault store included). The central system's
 * ledger is audited: no StartTransaction or StopTransaction lost, order, transactionIds, meter
 * readings never backwards, duplicates only in the window between sending and keeping the answer.
 * SIGKILL in a row: durability-kill.test.ts.
 */

const SAMPLE_EVERY_SECOND = { 'ocpp-configuration.json': JSON.stringify({ MeterValueSampleInterval: '1' }) };

async function centralSystem(t: Test): Promise<{ cs: CentralSystem; ledger: LedgerEntry[] }> {
  const cs = await startCentralSystem();
  t.teardown(() => cs.close());
  return { cs, ledger: keepLedger(cs) };
}

/** Starts the box on `dir` and waits until it is online (connector 1 reported). */
async function boxOnline(cs: CentralSystem, dir: string, chargeBoxId: string): Promise<RunningBox> {
  const from = cs.calls.length;
  const box = await startBox(dir, { ocpp: { url: cs.url, chargeBoxId, password: '', fixedIdTag: 'FIXED' } });
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1, { from, timeoutMs: 15_000 });
  return box;
}

t.test(
  'a backend that drops the link every 2-3 s during a transaction: nothing lost, all in order, meter values every second',
  async (t) => {
    // In process on the simulated clock: the link drops are the central system's doing, no process is needed.
    let ledger: LedgerEntry[] = [];
    const rig = await ocppRigFor(t, {
      files: SAMPLE_EVERY_SECOND,
      ocpp: { chargeBoxId: 'box-drops', fixedIdTag: 'FIXED' },
      prepare: (cs) => (ledger = keepLedger(cs)),
    });
    rig.car('C');
    await rig.waitCall('StartTransaction');
    const random = prng(3);
    for (let drop = 0; drop < 6; drop++) {
      await rig.advance(2000 + Math.floor(random() * 1000));
      await rig.cs.client().close({ force: true });
    }
    rig.car('A');
    await rig.waitCall('StopTransaction', () => true, 0, 30_000);
    const result = audit(ledger);
    t.same(result.violations, [], 'no violation');
    t.equal(result.transactions, 1);
    t.equal(result.lost, 0);
    t.same(result.stopReasons, { EVDisconnected: 1 });
    const times = ledger.filter((e) => e.action === 'MeterValues').map((e) => Date.parse(e.params['meterValue'][0].timestamp as string));
    const gaps = times.slice(1).map((ms, i) => ms - (times[i] as number));
    t.ok(
      Math.max(...gaps) <= 1500,
      `meter values kept coming through the drops: ${times.length} values, largest gap ${Math.max(...gaps)} ms`,
    );
    t.comment(
      `link drops: received ${result.received}, sent ${result.sent}, duplicated ${result.duplicated}, lost ${result.lost}, meter values ${result.meterValues}`,
    );
  },
);

t.test(
  'a power loss (the machine booted anew): StopTransaction PowerLoss with the last kept meter reading, then a new transaction',
  async (t) => {
    // In process: the power cut freezes the firmware where it is (its simulated clock never moves
    // again, nothing is stopped or saved); the next run comes up under another kernel boot id.
    const dir = t.testdir({});
    let ledger: LedgerEntry[] = [];
    const ocpp = { chargeBoxId: 'box-power', fixedIdTag: 'FIXED' };
    const first = await ocppRig(dir, { files: SAMPLE_EVERY_SECOND, ocpp, prepare: (cs) => (ledger = keepLedger(cs)) });
    const { cs } = first;
    t.teardown(() => cs.close());
    first.car('C');
    await first.waitStatus('Charging', 0);
    await first.advance(4000);
    const atKill = first.plant.meterReading().energyWh;
    await cs.client().close({ force: true });
    const statePath = join(dir, 'state.json');
    writeFileSync(statePath, JSON.stringify({ ...storedJson(statePath), bootId: 'a-boot-before-the-power-cut' }));
    // The meter kept its register (the sim board keeps it at every whole Wh); the box comes back to the same central system.
    const from0 = cs.calls.length;
    const again = await ocppRig(dir, { ocpp: { ...ocpp, url: cs.url }, meterWh: Math.floor(atKill), noWait: true });
    t.teardown(() => again.close());
    const call = (action: string, from: number) => cs.calls.slice(from).find((c) => c.action === action);
    await again.pace(() => call('StopTransaction', from0) !== undefined, 30_000);
    const stop = call('StopTransaction', from0)!;
    t.equal(stop.params['reason'], 'PowerLoss');
    const meterStop = stop.params['meterStop'] as number;
    const boundWh = METER_KEEP_STEP_WH + 22_080 / 3600 + 1;
    t.ok(
      meterStop <= atKill + 0.5 && atKill - meterStop <= boundWh,
      `meterStop ${meterStop} Wh, meter at the power cut ${atKill.toFixed(1)} Wh: ${(atKill - meterStop).toFixed(1)} Wh unaccounted (bound ${boundWh.toFixed(1)})`,
    );
    await again.pace(() => cs.calls.slice(from0).some((c) => c.action === 'StatusNotification' && c.params['connectorId'] === 1), 30_000);
    const from = cs.calls.length;
    again.car('C');
    await again.pace(() => call('StartTransaction', from) !== undefined, 30_000);
    const start = call('StartTransaction', from)!;
    t.ok((start.params['meterStart'] as number) >= meterStop, 'ready for a new transaction; its meterStart is not below');
    t.same(audit(ledger).violations, []);
    await again.close();
  },
);

t.test(
  'truncated and garbage files in dataDir: each set aside and reported, the box boots on the safe side (a latched storage fault: no charging)',
  async (t) => {
    const damaged: Record<string, string> = {
      'state.json': '{"bootId":"x","cleanSt',
      'ocpp-configuration.json': '\u0000\u0001garbage',
      'ocpp-authorization.json': '{"listVersion": 3, "list": {',
      'ocpp-charging-profiles.json': '[{"connectorId":1,"profile":{"chargingProfileId":"x"}}]',
      'ocpp-availability.json': 'null garbage',
      'faults.json': '{"latched":[',
      'config-overlay.json': '[1,2,3]',
      'sim-meter.json': '{"energyWh":',
      'ocpp-transactions.jsonl': 'not json\n{"k":"msg","seq":1}\n{"k":"ids","nextSeq":5,"nextTx":9}\n{"k":"op',
      '.4242.0badc0de.tmp': '{"half a write',
    };
    const dir = t.testdir({ data: damaged });
    const { cs } = await centralSystem(t);
    const box = await boxOnline(cs, dir, 'box-damaged');
    t.teardown(() => box.fw.kill());
    for (const name of Object.keys(damaged).filter((n) => n.endsWith('.json'))) {
      t.ok(existsSync(join(dir, 'data', `${name}.corrupt`)), `${name} set aside`);
      t.ok(
        box.fw.logs.some((l) => l['level'] === 'error' && l['msg'] === 'stored file unreadable' && String(l['path']).endsWith(name)),
        `${name} reported`,
      );
    }
    t.ok(
      box.fw.logs.some((l) => l['msg'] === 'journal: damaged records skipped'),
      'damaged journal lines reported',
    );
    t.notOk(existsSync(join(dir, 'data', '.4242.0badc0de.tmp')), 'the temp file of a write cut short is removed');
    const faulted = await waitStatus(cs, 'Faulted', 0);
    t.match(
      faulted.params,
      { errorCode: 'InternalError', info: 'fault store unreadable; installer must clear' },
      'the unreadable fault store counts as latched and is reported',
    );
    await plugIn(box);
    t.equal(await relayEverClosed(box, 2000), false, 'no charging until an installer clears it');
    await box.fw.kill();
  },
);

import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createLogger } from '../../firmware/log.js';
import { parseStored } from '../../firmware/store/atomic-file.js';
import { ocppRig, type OcppRig } from '../helpers/ocpp-rig.js';

/**
 * CONTRACT §6, the journal's part, in process on the simulated clock against the strict central
 * system: the box charges, and the disk as a crash left it is found with the transaction journal
 * emptied or overwritten with garbage. The open transaction is closed at the central system from
 * its marker (`ocpp-open-transactions.json`): exactly one StopTransaction, with the last meter
 * reading kept on disk and the transactionId the central system gave, reported at error, in the
 * status and to the central system; the next start sends nothing again.
 */

const OCPP = { fixedIdTag: 'FIXED' };

/** The files of `dir` as a crash would leave them; one renamed away while it is read (a write's temp file) is left out. */
function diskImage(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dir)) {
    try {
      if (statSync(join(dir, name)).isFile()) files.set(name, readFileSync(join(dir, name)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return files;
}

interface MarkedTransaction {
  readonly lastMeter: { readonly wh: number } | null;
  readonly transactionId: number | null;
}

/**
 * The open transaction in an image's marker; none before the first write, or where the image
 * caught a rewrite between its two renames (store/atomic-file.ts: the file is briefly absent, and
 * a restart reads its previous generation).
 */
function markedIn(image: Map<string, Buffer>): MarkedTransaction | undefined {
  const bytes = image.get('ocpp-open-transactions.json');
  const parsed = bytes === undefined ? null : parseStored(bytes.toString('utf8'));
  return parsed !== null && 'value' in parsed ? (parsed.value as { open: MarkedTransaction[] }).open[0] : undefined;
}

async function rigOn(t: Test, dir: string, lines: Array<Record<string, unknown>> = []): Promise<OcppRig> {
  const log = createLogger({ level: 'info', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const rig = await ocppRig(dir, { ocpp: OCPP, log });
  t.teardown(() => rig.close());
  return rig;
}

const JOURNAL_DAMAGES: Record<string, (path: string) => void> = {
  emptied: (path) => writeFileSync(path, ''),
  garbage: (path) => writeFileSync(path, '\u0000\u0001\u00ff garbage\n'.repeat(40)),
};

t.test(
  'the journal emptied or garbage after a crash during a transaction: exactly one StopTransaction, meterStop the last kept reading',
  async (t) => {
    const root = t.testdir({});
    const first = join(root, 'first');
    mkdirSync(first);
    const rig = await rigOn(t, first);
    let from = rig.cs.calls.length;
    rig.car('C');
    await rig.waitStatus('Charging', from);
    await rig.waitCall('StartTransaction', () => true, from);
    // A minute at 32 A on three phases: the reading is kept every 10 Wh, the marker follows.
    await rig.advance(60_000);
    // The image is taken while the box still writes (a crash): the one whose marker has the
    // reading and the transactionId.
    let image = new Map<string, Buffer>();
    let marking: MarkedTransaction | undefined;
    await rig.pace(() => {
      image = diskImage(first);
      marking = markedIn(image);
      return (marking?.lastMeter?.wh ?? 0) > 300 && marking?.transactionId != null;
    }, 10_000);
    const marked = { transactionId: marking?.transactionId, lastMeter: { wh: marking?.lastMeter?.wh ?? 0 } };
    t.equal(
      marked.transactionId,
      rig.cp.transactions.transaction?.transactionId,
      'the marker has the transactionId the central system gave',
    );
    await rig.close();

    for (const [damage, apply] of Object.entries(JOURNAL_DAMAGES)) {
      await t.test(`journal ${damage}`, async (t) => {
        const dir = join(root, damage);
        mkdirSync(dir);
        for (const [name, bytes] of image) writeFileSync(join(dir, name), bytes);
        rmSync(join(dir, 'ocpp-transactions.jsonl.prev'), { force: true });
        apply(join(dir, 'ocpp-transactions.jsonl'));
        const lines: Array<Record<string, unknown>> = [];
        const again = await rigOn(t, dir, lines);
        const stop = await again.waitCall('StopTransaction');
        t.match(
          stop.params,
          { transactionId: marked.transactionId, meterStop: Math.round(marked.lastMeter.wh), reason: 'Reboot' },
          `closed with the marker's reading ${Math.round(marked.lastMeter.wh)} Wh and the transactionId the central system gave`,
        );
        t.equal(again.since(0, 'StartTransaction').length, 0, 'its StartTransaction was confirmed: not sent again');
        t.ok(
          lines.some((l) => l['level'] === 'error' && l['msg'] === 'journal lost an open transaction: closed from its marker'),
          'logged at error',
        );
        t.match(
          again.firmware.storageProblems(),
          [{ file: 'ocpp-transactions.jsonl', problem: /records lost; 1 open transaction/ }],
          'shown in the status',
        );
        const reported = await again.waitCall('StatusNotification', (p) => p['info'] === 'transaction journal damaged: closed from marker');
        t.equal(reported.params['errorCode'], 'InternalError', 'reported to the central system');
        await again.advance(30_000);
        t.equal(again.since(0, 'StopTransaction').length, 1, 'exactly one StopTransaction');
        await again.close();

        const third = await rigOn(t, dir);
        await third.advance(30_000);
        t.same(third.since(0, 'StopTransaction'), [], 'the next start sends no StopTransaction again');
        t.same(third.firmware.storageProblems(), [], 'and finds nothing lost');
        await third.close();
      });
    }
  },
);

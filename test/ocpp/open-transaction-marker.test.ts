import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { createLogger, silentLogger, type Logger } from '../../firmware/log.js';
import { TxQueue } from '../../firmware/ocpp/model/tx-queue.js';
import type { OcppRpc } from '../../firmware/ocpp/rpc.js';
import { parseStored } from '../../firmware/store/atomic-file.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import type { RequestOf } from '../../firmware/ocpp/messages.js';
import { ramDir } from '../helpers/ram-dir.js';

/**
 * The open-transaction marker (`ocpp-open-transactions.json`) beside the journal: a journal that
 * a damaged disk emptied, filled with garbage or cut at a record boundary still has its open
 * transaction closed at the central system, once, with the last reading kept on disk; a
 * StopTransaction the central system confirmed is never sent again; a crash at any byte of the
 * journal with the marker of that moment changes nothing of that.
 */

const JOURNAL = 'ocpp-transactions.jsonl';
const MARKER = 'ocpp-open-transactions.json';
const START = { connectorId: 1, idTag: 'TAG', meterStart: 100, timestamp: '2026-03-02T10:00:00.000Z' };
const STOP: Omit<RequestOf<'StopTransaction'>, 'transactionId'> = {
  idTag: 'TAG',
  meterStop: 125,
  timestamp: '2026-03-02T11:00:00.000Z',
  reason: 'EVDisconnected',
};
const TRANSACTION_ID = 4711;

interface Sent {
  action: string;
  payload: Record<string, any>;
}

function centralSystem() {
  const sent: Sent[] = [];
  const rpc = {
    connected: false,
    async call(action: string, payload: Record<string, any>) {
      sent.push({ action, payload });
      return action === 'StartTransaction' ? { transactionId: TRANSACTION_ID, idTagInfo: { status: 'Accepted' } } : {};
    },
  };
  return { rpc, sent };
}

async function openQueue(dataDir: string, rpc: { connected: boolean }, log: Logger = silentLogger): Promise<TxQueue> {
  return new TxQueue(
    {
      rpc: rpc as unknown as OcppRpc,
      clock: new SimulatedClock(),
      log,
      attempts: () => 3,
      retryIntervalS: () => 10,
      canSend: () => rpc.connected,
    },
    await TxQueue.load(dataDir, log),
  );
}

/** What TransactionService.recover does at boot: each open transaction closed with its last kept reading. */
function recover(queue: TxQueue): void {
  for (const open of queue.openTransactions)
    queue.push('StopTransaction', open.localId, {
      idTag: open.idTag,
      meterStop: Math.round(open.lastMeter?.wh ?? open.meterStartWh),
      timestamp: open.lastMeter?.at ?? open.startedAt,
      reason: 'PowerLoss',
    });
}

/** Starts the box again on `dataDir`, closes what is open, sends what is queued; returns what went out. */
async function restart(dataDir: string, log: Logger = silentLogger): Promise<Sent[]> {
  const { rpc, sent } = centralSystem();
  const queue = await openQueue(dataDir, rpc, log);
  recover(queue);
  rpc.connected = true;
  await queue.drain();
  await queue.flush();
  await queue.close();
  return sent;
}

function recording(): { log: Logger; errors: () => Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return {
    log: createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }),
    errors: () => lines.filter((l) => l['level'] === 'error'),
  };
}

const read = (path: string): Buffer | null => (existsSync(path) ? readFileSync(path) : null);

/** A transaction's life, with the journal and the marker as they are on disk after each step. */
async function transactionLife(dataDir: string) {
  const { rpc, sent } = centralSystem();
  const queue = await openQueue(dataDir, rpc);
  const snapshots: Array<{ step: string; journal: Buffer | null; marker: Buffer | null; startConfirmed: boolean; stopConfirmed: boolean }> =
    [];
  let localId = 0;
  const steps: Array<[string, () => Promise<void> | void]> = [
    ['nothing yet', () => {}],
    [
      'started, offline',
      () => {
        localId = queue.openTransaction({ idTag: 'TAG', meterStartWh: 100, startedAt: START.timestamp });
        queue.push('StartTransaction', localId, START);
      },
    ],
    [
      'StartTransaction confirmed',
      async () => {
        rpc.connected = true;
        await queue.drain();
        rpc.connected = false;
      },
    ],
    ['110 Wh kept', () => queue.recordMeter(localId, 110, '2026-03-02T10:10:00.000Z')],
    ['120 Wh kept', () => queue.recordMeter(localId, 120, '2026-03-02T10:20:00.000Z')],
    ['StopTransaction queued, offline', () => queue.push('StopTransaction', localId, STOP)],
    [
      'StopTransaction confirmed',
      async () => {
        rpc.connected = true;
        await queue.drain();
      },
    ],
  ];
  for (const [step, run] of steps) {
    await run();
    await queue.flush();
    snapshots.push({
      step,
      journal: read(join(dataDir, JOURNAL)),
      marker: read(join(dataDir, MARKER)),
      startConfirmed: sent.some((s) => s.action === 'StartTransaction'),
      stopConfirmed: sent.some((s) => s.action === 'StopTransaction'),
    });
  }
  await queue.close();
  return snapshots;
}

function put(path: string, bytes: Buffer | null): void {
  rmSync(path, { force: true });
  rmSync(`${path}.prev`, { force: true });
  if (bytes !== null) writeFileSync(path, bytes);
}

t.test(
  'a crash at every byte of the journal, with the marker as it was before and after that step: one StartTransaction and one StopTransaction in all (two only for the one in flight), meterStop a kept reading',
  async (t) => {
    const life = await transactionLife(t.testdir({}));
    const marker = parseStored(String(life.at(-1)?.marker));
    t.same(
      marker,
      {
        value: {
          journalNumber: 'value' in marker ? (marker.value as { journalNumber: unknown }).journalNumber : null,
          open: [],
          finished: [1],
        },
      },
      'after the confirmed stop the marker holds the transaction as finished only',
    );
    // Thousands of starts: on a RAM disk where there is one (fsync costs nothing there, the logic is the same).
    const dataDir = ramDir(t);
    let images = 0;
    let duplicates = 0;
    for (let k = 1; k < life.length; k++) {
      const before = life[k - 1]!;
      const after = life[k]!;
      const whole = after.journal ?? Buffer.alloc(0);
      // A crash inside step k: the journal anywhere from where it was to where it got, the marker of either side.
      for (let cut = before.journal?.length ?? 0; cut <= whole.length; cut++) {
        for (const marker of [before, after]) {
          images += 1;
          put(join(dataDir, JOURNAL), whole.subarray(0, cut));
          put(join(dataDir, MARKER), marker.marker);
          const sent = await restart(dataDir);
          const again = await restart(dataDir);
          const where = `step "${after.step}", journal cut at ${cut}/${whole.length}, marker ${marker === before ? 'before' : 'after'}`;
          if (again.length > 0) t.fail(`${where}: a third start sent ${again.map((s) => s.action).join(', ')}`);
          const stops = sent.filter((s) => s.action === 'StopTransaction');
          // What the central system had from before the crash: in a step that sends, it may or may not have got it.
          const inAll = (action: 'Start' | 'Stop', again: number): number[] => {
            const key = action === 'Start' ? 'startConfirmed' : 'stopConfirmed';
            return [...new Set([again + (before[key] ? 1 : 0), again + (after[key] ? 1 : 0)])];
          };
          const starts = inAll('Start', sent.filter((s) => s.action === 'StartTransaction').length);
          const stopsInAll = inAll('Stop', stops.length);
          const end = cut === whole.length && marker === after;
          // A crash while the start is written: no transaction (charging waits for both files), or one closed.
          const opening = before.step === 'nothing yet' && !end;
          // Only the message in flight in this step (sent, its confirmation not yet kept) may go twice.
          const inFlight = after.step.endsWith('confirmed') && !end;
          const fine = (counts: number[], action: string): boolean =>
            opening
              ? counts.some((n) => n <= 1) && counts[0] === stopsInAll[0]
              : counts.includes(1) || (inFlight && after.step.startsWith(action) && counts.includes(2));
          if (!fine(starts, 'Start')) t.fail(`${where}: ${starts.join(' or ')} StartTransaction in all`);
          if (!fine(stopsInAll, 'Stop')) t.fail(`${where}: ${stopsInAll.join(' or ')} StopTransaction in all`);
          if (!stopsInAll.includes(1)) duplicates += 1;
          for (const stop of stops) {
            const meterStop = stop.payload['meterStop'] as number;
            if (![100, 110, 120, 125].includes(meterStop)) t.fail(`${where}: meterStop ${meterStop} was never kept`);
            if (stop.payload['transactionId'] !== TRANSACTION_ID) t.fail(`${where}: transactionId ${stop.payload['transactionId']}`);
          }
        }
      }
    }
    t.pass(`${images} crash images: every transaction closed once, with a kept reading; ${duplicates} with the stop in flight sent again`);
  },
);

/** The ways the journal is found damaged between two runs (CONTRACT §6), applied to its bytes. */
const JOURNAL_DAMAGES: Record<string, (journal: Buffer) => Buffer | null> = {
  emptied: () => Buffer.alloc(0),
  garbage: (journal) => Buffer.from('\u0000\u0001\u00ff garbage\n'.repeat(Math.ceil(journal.length / 14))),
  removed: () => null,
  'tail cut at a record boundary': (journal) => {
    const lines = String(journal).split('\n');
    return Buffer.from(lines.slice(0, 1).join('\n') + '\n');
  },
  'a record inside gone': (journal) => {
    const lines = String(journal).split('\n');
    return Buffer.from([...lines.slice(0, 1), ...lines.slice(2)].join('\n'));
  },
};

t.test(
  'journal emptied, garbage, removed, its tail cut at a record boundary, a record inside gone: the open transaction closed once from its marker, with its last kept reading, reported at error',
  async (t) => {
    const life = await transactionLife(t.testdir({}));
    const at = (step: string) => life.find((s) => s.step === step)!;
    const cases = [
      { step: 'started, offline', meterStop: 100, sendsStart: true },
      { step: '120 Wh kept', meterStop: 120, sendsStart: false },
      { step: 'StopTransaction queued, offline', meterStop: 125, sendsStart: false },
    ];
    for (const { step, meterStop, sendsStart } of cases) {
      for (const [damage, apply] of Object.entries(JOURNAL_DAMAGES)) {
        const dataDir = t.testdir({});
        const snapshot = at(step);
        put(join(dataDir, JOURNAL), apply(snapshot.journal!));
        put(join(dataDir, MARKER), snapshot.marker);
        const { log, errors } = recording();
        const sent = await restart(dataDir, log);
        const name = `${step}, journal ${damage}`;
        const stops = sent.filter((s) => s.action === 'StopTransaction');
        t.equal(stops.length, 1, `${name}: one StopTransaction`);
        t.match(stops[0]?.payload, { meterStop, transactionId: TRANSACTION_ID }, `${name}: meterStop ${meterStop}, the last kept reading`);
        t.equal(
          sent.filter((s) => s.action === 'StartTransaction').length,
          sendsStart ? 1 : 0,
          sendsStart ? `${name}: never confirmed: StartTransaction first` : `${name}: confirmed before: no StartTransaction again`,
        );
        t.ok(
          errors().length > 0,
          `${name}: reported at error (${errors()
            .map((e) => e['msg'])
            .join('; ')})`,
        );
        t.same(await restart(dataDir), [], `${name}: nothing sent at the next start`);
      }
    }
  },
);

t.test('a confirmed StopTransaction the journal lost the confirmation of is never sent again', async (t) => {
  const life = await transactionLife(t.testdir({}));
  const dataDir = t.testdir({});
  const confirmed = life.at(-1)!;
  const queued = life.find((s) => s.step === 'StopTransaction queued, offline')!;
  // The journal cut back to before the confirmation (a tail lost at a record boundary), the marker
  // after it: written before the journal kept the confirmation, it knows the stop was confirmed.
  put(join(dataDir, JOURNAL), queued.journal);
  put(join(dataDir, MARKER), confirmed.marker);
  const { log, errors } = recording();
  t.same(await restart(dataDir, log), [], 'nothing sent');
  t.ok(errors().some((e) => e['msg'] === 'a StopTransaction the central system confirmed was pending again: not sent again'));
});

t.test('an intact journal is trusted: a marker left behind by a crash (or one that could not be written) sends nothing', async (t) => {
  const life = await transactionLife(t.testdir({}));
  const dataDir = t.testdir({});
  put(join(dataDir, JOURNAL), life.at(-1)!.journal);
  put(join(dataDir, MARKER), life.find((s) => s.step === '120 Wh kept')!.marker);
  const { log, errors } = recording();
  t.same(await restart(dataDir, log), []);
  t.same(errors(), [], 'no error: nothing was lost');
});

t.test('the marker damaged: its previous generation, else the journal alone; reported', async (t) => {
  const life = await transactionLife(t.testdir({}));
  const dataDir = t.testdir({});
  const snapshot = life.find((s) => s.step === '120 Wh kept')!;
  put(join(dataDir, JOURNAL), snapshot.journal);
  put(join(dataDir, MARKER), Buffer.from('\u0000garbage'));
  const { log, errors } = recording();
  const { rpc } = centralSystem();
  const queue = await openQueue(dataDir, rpc, log);
  t.match(queue.journalDamage, { journal: null, marker: String }, 'the status names the marker');
  t.ok(errors().some((e) => e['msg'] === 'stored file unreadable'));
  t.same(
    queue.openTransactions.map((o) => o.lastMeter?.wh),
    [120],
    'the journal still closes it',
  );
  await queue.close();
});

t.test(
  'a rollback to the version before the marker, then this one again: the stale marker closes nothing, the journal is trusted',
  async (t) => {
    const life = await transactionLife(t.testdir({}));
    const dataDir = t.testdir({});
    // This version wrote the marker while the transaction was open, then the updater rolled back:
    // the previous version finished the transaction and compacted the journal in its own format
    // (unnumbered lines, the records as it read them, `#` key and all), never touching the marker.
    const previousFormat = String(life.at(-1)!.journal)
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const json = line.slice(0, line.lastIndexOf('\t'));
        const copied = JSON.stringify(JSON.parse(json));
        return `${copied}\t${createHash('sha256').update(copied).digest('hex').slice(0, 8)}\n`;
      })
      .join('');
    put(join(dataDir, JOURNAL), Buffer.from(previousFormat));
    put(join(dataDir, MARKER), life.find((s) => s.step === '120 Wh kept')!.marker);
    const { log, errors } = recording();
    t.same(await restart(dataDir, log), [], 'no StopTransaction sent again');
    t.same(errors(), [], 'no error: nothing was lost');
    t.same(await restart(dataDir), [], 'nor at the start after');
  },
);

import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { createLogger } from '../../firmware/log.js';
import { Journal } from '../../firmware/store/journal.js';

/** The append-only journal: order, a torn last line, damaged lines, compaction, a disk that refuses. */

type Rec = { n: number };
const isRec = (r: unknown): r is Rec => typeof (r as Rec | null)?.n === 'number';

function recordingLog() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }) };
}

t.test('records come back in the order written; rewrite compacts', async (t) => {
  const path = join(t.testdir({}), 'j.jsonl');
  const { log } = recordingLog();
  const { journal } = await Journal.open(path, isRec, log);
  for (let n = 1; n <= 5; n++) journal.append({ n });
  await journal.flush();
  t.same(
    (await Journal.open(path, isRec, log)).records,
    [1, 2, 3, 4, 5].map((n) => ({ n })),
  );
  journal.rewrite([{ n: 9 }]);
  journal.append({ n: 10 });
  await journal.close();
  t.same((await Journal.open(path, isRec, log)).records, [{ n: 9 }, { n: 10 }]);
});

t.test('records given while a write is under way go out together, in order; a rewrite queued among them keeps its place', async (t) => {
  const path = join(t.testdir({}), 'j.jsonl');
  const { log } = recordingLog();
  const { journal } = await Journal.open(path, isRec, log);
  for (let n = 1; n <= 100; n++) journal.append({ n });
  await journal.flush();
  t.equal(journal.durableNumber, 100, 'numbered 1..100');
  const reopened = await Journal.open(path, isRec, log);
  t.same(
    reopened.records,
    Array.from({ length: 100 }, (_, i) => ({ n: i + 1 })),
  );
  t.equal(reopened.damaged, false, 'no number missing');
  // The append of 101 is queued and not started when the rewrite is given: 102 must follow the
  // rewrite, not join 101's write and then be compacted away.
  journal.append({ n: 101 });
  journal.rewrite([{ n: 7 }]);
  journal.append({ n: 102 });
  await journal.close();
  t.same((await Journal.open(path, isRec, log)).records, [{ n: 7 }, { n: 102 }]);
});

t.test('a torn last line (a crash during an append) is skipped quietly; a damaged line inside is skipped and reported', async (t) => {
  const path = join(t.testdir({}), 'j.jsonl');
  writeFileSync(path, '{"n":1}\n{"n":2}\n{"n":');
  const torn = recordingLog();
  t.same((await Journal.open(path, isRec, torn.log)).records, [{ n: 1 }, { n: 2 }]);
  t.ok(torn.lines.some((l) => l['level'] === 'warn' && l['msg'] === 'journal: torn last record dropped'));
  t.notOk(torn.lines.some((l) => l['level'] === 'error'));
  writeFileSync(path, '{"n":1}\ngarbage\x00\x01\n{"x":3}\n{"n":4}\n');
  const damaged = recordingLog();
  t.same((await Journal.open(path, isRec, damaged.log)).records, [{ n: 1 }, { n: 4 }]);
  t.match(
    damaged.lines.find((l) => l['level'] === 'error'),
    { msg: 'journal: damaged records skipped', skipped: 2 },
  );
});

t.test('a disk that refuses: logged once per kind of failure, memory goes on, writes resume when it recovers', async (t) => {
  const dir = join(t.testdir({}), 'not-yet');
  const path = join(dir, 'j.jsonl');
  const { lines, log } = recordingLog();
  const { journal } = await Journal.open(path, isRec, log);
  for (let n = 1; n <= 3; n++) journal.append({ n });
  await journal.flush();
  t.equal(journal.healthy, false);
  t.equal(
    lines.filter((l) => l['msg'] === 'journal write failed; kept in memory only').length,
    1,
    'one error line for three failed writes',
  );
  mkdirSync(dir);
  journal.append({ n: 4 });
  await journal.close();
  t.equal(journal.healthy, true);
  t.ok(lines.some((l) => l['msg'] === 'journal writable again'));
  t.match(readFileSync(path, 'utf8'), /^{"#":1\t,"n":4}\t[0-9a-f]{8}\n$/);
  appendFileSync(path, '{"n":5}\n');
  t.same((await Journal.open(path, isRec, log)).records, [{ n: 4 }, { n: 5 }]);
});

t.test('a journal that failed is rewritten from the live state by retry(), not record by record', async (t) => {
  // A file where the folder should be: every write fails (ENOTDIR) until it is a folder again.
  const dir = join(t.testdir({ blocked: 'a file' }), 'blocked');
  const path = join(dir, 'j.jsonl');
  const { log } = recordingLog();
  const { journal } = await Journal.open(path, isRec, log);
  const live: Rec[] = [];
  journal.snapshotWith(() => live);
  for (let n = 1; n <= 3; n++) {
    live.push({ n });
    journal.append({ n });
  }
  await journal.flush();
  t.equal(journal.healthy, false);
  t.equal(await journal.retry(), false, 'still no folder: still stale');
  rmSync(dir);
  mkdirSync(dir);
  t.equal(await journal.retry(), true, 'the folder is back: healthy again');
  journal.append({ n: 4 });
  await journal.close();
  t.same((await Journal.open(path, isRec, log)).records, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }], 'nothing that failed is lost');
});

t.test(
  'numbered lines: a record gone from the middle is reported, a tail cut at a line boundary shows in the last number, numbers go on across rewrites',
  async (t) => {
    const path = join(t.testdir({}), 'j.jsonl');
    const { log } = recordingLog();
    const opened = await Journal.open(path, isRec, log);
    for (let n = 1; n <= 4; n++) opened.journal.append({ n });
    await opened.journal.flush();
    t.equal(opened.journal.durableNumber, 4);
    opened.journal.rewrite([{ n: 9 }]);
    opened.journal.append({ n: 10 });
    await opened.journal.close();
    t.match(
      readFileSync(path, 'utf8'),
      /^{"#":5\t,"n":9}\t[0-9a-f]{8}\n{"#":6\t,"n":10}\t[0-9a-f]{8}\n$/,
      'the compacted file goes on from 5',
    );
    const whole = await Journal.open(path, isRec, log);
    t.same([whole.records, whole.lastNumber, whole.damaged], [[{ n: 9 }, { n: 10 }], 6, false]);

    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, `${lines[0]}\n`);
    const cut = await Journal.open(path, isRec, log);
    t.same(
      [cut.lastNumber, cut.damaged],
      [5, false],
      'a tail cut at a boundary reads clean: only the number shows it (the marker compares)',
    );
    cut.journal.continueAfter(6);
    cut.journal.append({ n: 11 });
    await cut.journal.close();
    t.match(readFileSync(path, 'utf8'), /\n{"#":7\t,"n":11}/, 'never a number again that a reader was promised');

    const gap = recordingLog();
    const reopened = await Journal.open(path, isRec, gap.log);
    t.equal(reopened.damaged, true, 'number 6 missing between 5 and 7');
    t.match(
      gap.lines.find((l) => l['level'] === 'error'),
      { msg: 'journal: records missing between lines', missing: 1 },
    );
  },
);

/** How the version before numbered lines read one (`git show main:firmware/store/journal.ts`, parseLine). */
function previousVersionParses(text: string): unknown {
  const tab = text.lastIndexOf('\t');
  const json = tab === -1 ? text : text.slice(0, tab);
  if (tab !== -1 && createHash('sha256').update(json).digest('hex').slice(0, 8) !== text.slice(tab + 1)) return 'checksum mismatch';
  return JSON.parse(json);
}

t.test('a rollback: the previous version reads every numbered line; what it copies back, key and all, is read as unnumbered', async (t) => {
  const path = join(t.testdir({}), 'j.jsonl');
  const { log } = recordingLog();
  const opened = await Journal.open(path, isRec, log);
  for (let n = 1; n <= 3; n++) opened.journal.append({ n });
  await opened.journal.close();
  const read = readFileSync(path, 'utf8').split('\n').slice(0, -1).map(previousVersionParses);
  t.same(
    read,
    [1, 2, 3].map((n) => ({ '#': n, n })),
    'each line a record of the right shape, one key more',
  );
  // The previous version compacts: its own line format, the records as it read them.
  writeFileSync(
    path,
    read.map((r) => `${JSON.stringify(r)}\t${createHash('sha256').update(JSON.stringify(r)).digest('hex').slice(0, 8)}\n`).join(''),
  );
  const again = await Journal.open(path, isRec, log);
  t.same([again.records, again.lastNumber, again.damaged], [[{ n: 1 }, { n: 2 }, { n: 3 }], 0, false], 'unnumbered, not damaged');
});

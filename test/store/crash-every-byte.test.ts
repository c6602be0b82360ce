import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { silentLogger } from '../../firmware/log.js';
import { isJsonObject, readStore, writeFileAtomic } from '../../firmware/store/atomic-file.js';
import { Journal } from '../../firmware/store/journal.js';
import { storedJson } from '../helpers/damage.js';

/**
 * A crash (or a power loss on a disk that tears writes) at every byte of a real write: the file is
 * cut at each offset and opened again. The state files must give the old or the new content,
 * the journal a prefix of its records, never anything else.
 */

type State = { latched: string[]; limitA: number };
const isState = (v: unknown): v is State => isJsonObject<State>(v) && Array.isArray(v.latched) && typeof v.limitA === 'number';

t.test('state file: cut at every byte of a write, reopened: the old or the new content', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'faults.json');
  const old: State = { latched: ['contactorWelded'], limitA: 10 };
  const next: State = { latched: ['contactorWelded', 'rcd'], limitA: 12.5 };
  await writeFileAtomic(path, JSON.stringify(old, null, 1));
  await writeFileAtomic(path, JSON.stringify(next, null, 1));
  t.same(storedJson(`${path}.prev`), old, 'the previous generation is kept');
  const written = readFileSync(path);
  let oldSeen = 0;
  for (let cut = 0; cut <= written.length; cut++) {
    for (const tail of ['cut', 'zeros'] as const) {
      // A torn write leaves a prefix, or (ext4 after a power loss) the full length with zeros after it.
      const bytes =
        tail === 'cut' ? written.subarray(0, cut) : Buffer.concat([written.subarray(0, cut), Buffer.alloc(written.length - cut)]);
      writeFileSync(path, bytes);
      const read = await readStore(path, null, isState, silentLogger, { setAside: false });
      const whole = cut === written.length;
      if (whole) t.same(read, { value: next, damaged: null }, 'the whole write: the new content');
      else if (JSON.stringify(read.value) !== JSON.stringify(old) || read.damaged === null)
        t.fail(`cut at ${cut} (${tail}): ${JSON.stringify(read)}`);
      else oldSeen += 1;
    }
  }
  t.equal(oldSeen, 2 * written.length, `every one of the ${written.length} cuts (both kinds) gives the old content, reported as damaged`);
  // A crash between the two renames: no file, only its previous generation.
  rmSync(path);
  t.same(
    await readStore(path, null, isState, silentLogger),
    { value: old, damaged: null },
    'between the renames: the old content, no damage',
  );
  t.notOk(existsSync(`${path}.corrupt`));
});

type Rec = { n: number; note: string };
const isRec = (r: unknown): r is Rec => isJsonObject<Rec>(r) && typeof r.n === 'number' && typeof r.note === 'string';

t.test(
  'journal: cut at every byte, reopened: a prefix of the records, the torn one dropped, the next append on its own line',
  async (t) => {
    const dir = t.testdir({});
    const path = join(dir, 'j.jsonl');
    const records: Rec[] = Array.from({ length: 6 }, (_, n) => ({ n, note: `record ${n} ${'x'.repeat(n * 3)}` }));
    const { journal } = await Journal.open(path, isRec, silentLogger);
    for (const r of records) journal.append(r);
    await journal.close();
    const written = readFileSync(path);
    const ends: number[] = [];
    written.forEach((byte, i) => byte === 0x0a && ends.push(i + 1));
    t.equal(ends.length, records.length);
    const cutPath = join(dir, 'cut.jsonl');
    for (let cut = 0; cut <= written.length; cut++) {
      writeFileSync(cutPath, written.subarray(0, cut));
      const complete = ends.filter((end) => end <= cut).length;
      const { journal: reopened, records: read } = await Journal.open(cutPath, isRec, silentLogger);
      if (JSON.stringify(read) !== JSON.stringify(records.slice(0, complete)))
        t.fail(`cut at ${cut}: ${read.length} records, ${complete} expected`);
      reopened.append({ n: 99, note: 'after the crash' });
      await reopened.close();
      const after = (await Journal.open(cutPath, isRec, silentLogger)).records;
      if (JSON.stringify(after) !== JSON.stringify([...records.slice(0, complete), { n: 99, note: 'after the crash' }]))
        t.fail(`cut at ${cut}: the append after the crash was lost`);
    }
    t.pass(`${written.length + 1} cuts: each a prefix of whole records, the next append kept`);
  },
);

t.test('journal: a flipped byte inside a record fails its checksum and is reported, the rest is kept', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'j.jsonl');
  const { journal } = await Journal.open(path, isRec, silentLogger);
  journal.append({ n: 1, note: 'limit 10' });
  journal.append({ n: 2, note: 'b' });
  await journal.close();
  writeFileSync(path, readFileSync(path, 'utf8').replace('limit 10', 'limit 90'));
  t.same(
    (await Journal.open(path, isRec, silentLogger)).records,
    [{ n: 2, note: 'b' }],
    'a record that still parses but was changed is not taken',
  );
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { silentLogger } from '../../firmware/log.js';
import { isJsonObject, parseStored, readStore, writeFileAtomic } from '../../firmware/store/atomic-file.js';
import { seal } from '../../firmware/store/checksum.js';

/**
 * The checksum line of the JSON state files: a flipped bit that still parses with the right shape
 * is damage like any other (the previous generation, the file set aside); a file of the version
 * before checksums is still read; the content stays readable by hand below the line.
 */

type Latches = { latched: string[]; limitA: number };
const isLatches = (v: unknown): v is Latches => isJsonObject<Latches>(v) && Array.isArray(v.latched) && typeof v.limitA === 'number';
const STATE: Latches = { latched: ['contactorWelded'], limitA: 10 };

t.test('the file: a checksum line, then the JSON as written', async (t) => {
  const path = join(t.testdir({}), 'faults.json');
  await writeFileAtomic(path, JSON.stringify(STATE, null, 1));
  const [line, ...content] = readFileSync(path, 'utf8').split('\n');
  t.match(line, /^#sha256 [0-9a-f]{64}$/);
  t.same(JSON.parse(content.join('\n')), STATE, 'the rest is the JSON, readable by hand');
});

t.test('every single bit flipped anywhere in a sealed file is caught: never a changed value', async (t) => {
  const sealed = Buffer.from(seal(JSON.stringify(STATE)));
  let caught = 0;
  for (let i = 0; i < sealed.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = Buffer.from(sealed);
      flipped[i] = (flipped[i] as number) ^ (1 << bit);
      const parsed = parseStored(flipped.toString('utf8'));
      if ('value' in parsed && isLatches(parsed.value)) t.fail(`byte ${i} bit ${bit}: taken as ${JSON.stringify(parsed.value)}`);
      else caught += 1;
    }
  }
  t.equal(caught, sealed.length * 8, `${caught} flips, each one caught`);
});

t.test('a flip that still parses with the right shape: the previous generation, the file set aside, reported', async (t) => {
  const path = join(t.testdir({}), 'faults.json');
  await writeFileAtomic(path, JSON.stringify({ latched: [], limitA: 16 }));
  await writeFileAtomic(path, JSON.stringify(STATE));
  // "contactorWelded" → "contactorWeldeD": one bit, still a list of strings.
  writeFileSync(path, readFileSync(path, 'utf8').replace('Welded', 'WeldeD'));
  const errors: Array<Record<string, unknown>> = [];
  const read = await readStore(path, null, isLatches, { error: (msg, fields) => errors.push({ msg, ...fields }) });
  t.same(read, { value: { latched: [], limitA: 16 }, damaged: 'checksum mismatch' });
  t.match(errors, [{ msg: 'stored file unreadable', reason: 'checksum mismatch', usingPreviousGeneration: true }]);
  t.ok(existsSync(`${path}.corrupt`), 'set aside');
});

t.test('upgrade: a file written by the version before checksums is read as it is; the next write adds the line', async (t) => {
  const path = join(t.testdir({}), 'faults.json');
  writeFileSync(path, JSON.stringify(STATE));
  t.same(await readStore(path, null, isLatches, silentLogger), { value: STATE, damaged: null });
  await writeFileAtomic(path, JSON.stringify(STATE));
  t.match(readFileSync(path, 'utf8'), /^#sha256 [0-9a-f]{64}\n\{/);
  t.same(await readStore(path, null, isLatches, silentLogger), { value: STATE, damaged: null });
});

t.test('raw files (PEM, the journal) are written as given', async (t) => {
  const path = join(t.testdir({}), 'cert.pem');
  await writeFileAtomic(path, '-----BEGIN CERTIFICATE-----\n', { raw: true });
  t.equal(readFileSync(path, 'utf8'), '-----BEGIN CERTIFICATE-----\n');
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { silentLogger } from '../../firmware/log.js';
import { isJsonObject, parseStored, readStore, writeFileAtomic } from '../../firmware/store/atomic-file.js';
import { CHECKSUM_KEY, seal } from '../../firmware/store/checksum.js';

/**
 * The checksum member of the JSON state files: a flipped bit that still parses with the right
 * shape is damage like any other (the previous generation, the file set aside); a file of the
 * version before checksums is still read; and that version, should the updater roll back to it,
 * reads a sealed file as the plain JSON it still is.
 */

type Latches = { latched: string[]; limitA: number };
const isLatches = (v: unknown): v is Latches => isJsonObject<Latches>(v) && Array.isArray(v.latched) && typeof v.limitA === 'number';
const STATE: Latches = { latched: ['contactorWelded'], limitA: 10 };

/** How the version before checksums read a state file (`git show main:firmware/store/atomic-file.ts`): JSON.parse, then the store's shape guard. */
function previousVersionReads<T>(text: string, accept: (v: unknown) => v is T): T | null {
  const value: unknown = JSON.parse(text);
  return accept(value) ? value : null;
}

t.test('the file: plain JSON of the same shape, the checksum a last member over the object without it', async (t) => {
  const path = join(t.testdir({}), 'faults.json');
  await writeFileAtomic(path, JSON.stringify(STATE, null, 1));
  const text = readFileSync(path, 'utf8');
  t.match(text, /^\{\n "latched": \[\n  "contactorWelded"\n \],\n "limitA": 10,\t"#sha256":"[0-9a-f]{64}"\n\}$/, 'the indentation kept');
  const { [CHECKSUM_KEY]: sum, ...rest } = JSON.parse(text) as Record<string, unknown>;
  t.same(rest, STATE);
  const { createHash } = await import('node:crypto');
  t.equal(sum, createHash('sha256').update(JSON.stringify(STATE)).digest('hex'), 'SHA-256 of JSON.stringify of the object without the key');
  t.same(parseStored(text), { value: STATE }, 'read back without the key');
  t.equal(seal('{}'), `{\t"#sha256":"${createHash('sha256').update('{}').digest('hex')}"}`, 'an empty object');
  t.equal(seal('[1,2]'), '[1,2]', 'an array is written as it is');
});

t.test('the previous version reads a sealed file: plain JSON.parse and its shape guard accept it', async (t) => {
  const path = join(t.testdir({}), 'faults.json');
  for (const text of [JSON.stringify(STATE), JSON.stringify(STATE, null, 1), JSON.stringify(STATE, null, 2) + '\n']) {
    await writeFileAtomic(path, text);
    const read = previousVersionReads(readFileSync(path, 'utf8'), isLatches);
    t.match(read, STATE, 'the same values, one key more');
  }
});

t.test('every single bit flipped anywhere in a sealed file is caught: never a changed value', async (t) => {
  for (const text of [JSON.stringify(STATE), JSON.stringify(STATE, null, 1)]) {
    const sealed = Buffer.from(seal(text));
    let caught = 0;
    let harmless = 0;
    for (let i = 0; i < sealed.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(sealed);
        flipped[i] = (flipped[i] as number) ^ (1 << bit);
        const parsed = parseStored(flipped.toString('utf8'));
        if (!('value' in parsed) || !isLatches(parsed.value)) caught += 1;
        // JSON whitespace for whitespace (the tab for a CR): the same value, read unchecked.
        else if (JSON.stringify(parsed.value) === JSON.stringify(STATE)) harmless += 1;
        else t.fail(`byte ${i} bit ${bit}: taken as ${JSON.stringify(parsed.value)}`);
      }
    }
    t.equal(caught + harmless, sealed.length * 8, `${caught} flips caught, ${harmless} leaving the value as it was`);
    t.ok(harmless <= 2 + (text.match(/\s/g)?.length ?? 0), 'only whitespace flips go unnoticed');
  }
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

t.test('upgrade: a file written by the version before checksums is read as it is; the next write adds the member', async (t) => {
  const path = join(t.testdir({}), 'faults.json');
  writeFileSync(path, JSON.stringify(STATE, null, 1));
  t.same(await readStore(path, null, isLatches, silentLogger), { value: STATE, damaged: null });
  await writeFileAtomic(path, JSON.stringify(STATE, null, 1));
  t.match(readFileSync(path, 'utf8'), /,\t"#sha256":"[0-9a-f]{64}"\n\}$/);
  t.same(await readStore(path, null, isLatches, silentLogger), { value: STATE, damaged: null });
});

t.test(
  'rollback and update again: the previous version wrote back the key it read, its checksum stale; read unchecked, not damaged',
  async (t) => {
    const path = join(t.testdir({}), 'faults.json');
    await writeFileAtomic(path, JSON.stringify(STATE, null, 1));
    // The previous version spreads what it read into what it writes, `#sha256` included.
    const previous = previousVersionReads(readFileSync(path, 'utf8'), isLatches) as Latches;
    writeFileSync(path, JSON.stringify({ ...previous, limitA: 6 }, null, 1));
    t.same(
      await readStore(path, null, isLatches, silentLogger),
      { value: { ...STATE, limitA: 6 }, damaged: null },
      'the stale key dropped',
    );
    await writeFileAtomic(path, JSON.stringify({ ...STATE, limitA: 6 }));
    t.same(parseStored(readFileSync(path, 'utf8')), { value: { ...STATE, limitA: 6 } }, 'sealed again');
  },
);

t.test('raw files (PEM, the journal) are written as given', async (t) => {
  const path = join(t.testdir({}), 'cert.pem');
  await writeFileAtomic(path, '-----BEGIN CERTIFICATE-----\n', { raw: true });
  t.equal(readFileSync(path, 'utf8'), '-----BEGIN CERTIFICATE-----\n');
});

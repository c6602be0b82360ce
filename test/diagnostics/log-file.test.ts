import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { LogFile } from '../../firmware/diagnostics/log-file.js';
import { createLogger } from '../../firmware/log.js';

/** The firmware's own log copy: redacted lines, bounded by rotation, read back by time. */

t.test('lines are written redacted, rotated at maxBytes, at most keep + 1 files, read back oldest first by time', async (t) => {
  const dir = t.testdir();
  const file = new LogFile(dir, { maxBytes: 2000, keep: 2 });
  let nowMs = Date.parse('2026-01-01T00:00:00Z');
  const log = createLogger({ write: (line) => file.append(line), now: () => nowMs });
  for (let i = 0; i < 100; i++) {
    log.info('line', { i, password: 'hunter2' });
    nowMs += 1000;
  }
  await file.close();
  const names = (await readdir(dir)).sort();
  t.same(names, ['firmware.log', 'firmware.log.1', 'firmware.log.2'], 'the live file and two rotated ones');
  for (const name of names) t.ok((await stat(join(dir, name))).size <= 2000, `${name} within maxBytes`);

  const all = await file.linesBetween(null, null);
  const numbers = all.map((line) => (JSON.parse(line) as { i: number }).i);
  t.same(
    numbers,
    [...numbers].sort((a, b) => a - b),
    'oldest first',
  );
  t.equal(numbers[numbers.length - 1], 99, 'the newest line is kept');
  t.ok(numbers[0]! > 0, 'the oldest lines are gone');
  t.notOk(
    all.some((line) => line.includes('hunter2')),
    'no secret reaches the file',
  );

  const window = await file.linesBetween(Date.parse('2026-01-01T00:01:30Z'), Date.parse('2026-01-01T00:01:35Z'));
  t.same(
    window.map((line) => (JSON.parse(line) as { i: number }).i),
    [90, 91, 92, 93, 94, 95],
    'startTime..stopTime, both included',
  );
});

t.test('a folder that cannot be written turns the copy off without throwing', async (t) => {
  const dir = t.testdir({ blocker: 'a file, not a folder' });
  const file = new LogFile(join(dir, 'blocker', 'logs'));
  t.doesNotThrow(() => file.append('{"time":"2026-01-01T00:00:00Z","msg":"x"}'));
  t.doesNotThrow(() => file.append('{"time":"2026-01-01T00:00:00Z","msg":"y"}'));
  await file.close();
});

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { storedJson } from '../helpers/damage.js';
import type { GridStatus } from '../../firmware/charging/controller.js';
import { ACTIVATIONS_KEPT, GridActivationLog } from '../../firmware/grid/activation-log.js';
import { silentLogger } from '../../firmware/log.js';

const T0 = Date.UTC(2026, 0, 1, 12);
const active = (sinceMs: number, limitA: number): GridStatus => ({ active: true, sinceMs, limitW: 4200, limitA });
const idle: GridStatus = { active: false, sinceMs: null, limitW: 4200, limitA: null };
const stored = async (dir: string) => storedJson(join(dir, 'grid-activations.json')) as { activations: unknown[] };

t.test('an activation: start, each new limit, end; on disk at every change', async (t) => {
  const dir = t.testdir();
  const log = new GridActivationLog(dir, silentLogger);
  await log.load(T0);
  log.observe(idle, T0);
  t.same(log.list(), []);
  log.observe(active(T0 + 1000, 6), T0 + 1005);
  log.observe(active(T0 + 1000, 6), T0 + 2000);
  log.observe(active(T0 + 1000, 18.2), T0 + 30_000);
  t.same(log.current(), { start: '2026-01-01T12:00:01.000Z', end: null, limitW: 4200, limitsA: [6, 18.2], endedBy: null });
  log.observe(idle, T0 + 60_000);
  t.equal(log.current(), null);
  await log.stop(T0 + 61_000);
  t.same((await stored(dir)).activations, [
    { start: '2026-01-01T12:00:01.000Z', end: '2026-01-01T12:01:00.000Z', limitW: 4200, limitsA: [6, 18.2], endedBy: 'signal' },
  ]);
  t.equal(
    log.jsonLines(),
    '{"start":"2026-01-01T12:00:01.000Z","end":"2026-01-01T12:01:00.000Z","limitW":4200,"limitsA":[6,18.2],"endedBy":"signal"}\n',
  );
});

t.test('a clean stop ends an open activation; a start after a crash ends it with "restart"', async (t) => {
  const dir = t.testdir();
  const first = new GridActivationLog(dir, silentLogger);
  await first.load(T0);
  first.observe(active(T0, 6), T0);
  await first.stop(T0 + 5000);
  t.match(first.list(), [{ end: '2026-01-01T12:00:05.000Z', endedBy: 'stop' }]);

  const crashed = new GridActivationLog(dir, silentLogger);
  await crashed.load(T0 + 10_000);
  crashed.observe(active(T0 + 10_000, 6), T0 + 10_000);
  await crashed.flush(); // its write lands; then the process "dies"
  const reader = new GridActivationLog(dir, silentLogger);
  await reader.load(T0 + 99_000, { readOnly: true });
  t.match(reader.current(), { end: null }, 'the export tool leaves it open');
  const next = new GridActivationLog(dir, silentLogger);
  await next.load(T0 + 100_000);
  t.match(next.list(), [{ endedBy: 'stop' }, { start: '2026-01-01T12:00:10.000Z', end: '2026-01-01T12:01:40.000Z', endedBy: 'restart' }]);
  t.equal(next.current(), null);
});

t.test(`the last ${ACTIVATIONS_KEPT} are kept; a damaged file is set aside, not fatal`, async (t) => {
  const dir = t.testdir();
  const log = new GridActivationLog(dir, silentLogger);
  await log.load(T0);
  for (let i = 0; i < ACTIVATIONS_KEPT + 5; i++) {
    log.observe(active(T0 + i * 1000, 6), T0 + i * 1000);
    log.observe(idle, T0 + i * 1000 + 500);
  }
  await log.stop(T0 + 1_000_000);
  t.equal(log.list().length, ACTIVATIONS_KEPT);
  t.equal(log.list()[0]?.start, new Date(T0 + 5000).toISOString(), 'the oldest five went');
  t.equal((await stored(dir)).activations.length, ACTIVATIONS_KEPT);

  // A damaged file falls back to its previous generation (store/atomic-file.ts keeps it as .prev);
  // with that gone too, the log starts empty. Neither is fatal.
  await writeFile(join(dir, 'grid-activations.json'), '{"activations": [{"start": 5}');
  const damaged = new GridActivationLog(dir, silentLogger);
  await damaged.load(T0);
  t.ok(damaged.list().length > 0 && damaged.list().length <= ACTIVATIONS_KEPT, 'the previous generation is read');
  t.ok(await readFile(join(dir, 'grid-activations.json.corrupt'), 'utf8'), 'set aside as .corrupt');
  await rm(join(dir, 'grid-activations.json.prev'), { force: true });
  await writeFile(join(dir, 'grid-activations.json'), '{"activations": [{"start": 5}');
  const lost = new GridActivationLog(dir, silentLogger);
  await lost.load(T0);
  t.same(lost.list(), [], 'no generation readable: an empty log');
});

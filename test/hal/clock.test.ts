import t from 'tap';
import { longTimers, MAX_TIMER_MS, systemClock } from '../../hal/clock.js';

/** The host clock's timers: every delay honoured, never shortened (CONTRACT §10), whatever its size. */

const since = (startMs: number): number => performance.now() - startMs;

t.test("a delay beyond the host's longest setTimeout does not fire early (Node would fire it after 1 ms)", async (t) => {
  let fired = false;
  const handle = systemClock.setTimeout(() => (fired = true), MAX_TIMER_MS + 1);
  const huge = systemClock.setTimeout(() => (fired = true), 2_147_483_647 * 1000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk(fired, 'not fired within 300 ms');
  systemClock.clearTimeout(handle);
  systemClock.clearTimeout(huge);
});

t.test('a long delay waits in steps and fires once, at its time', async (t) => {
  const timers = longTimers(20);
  const startMs = performance.now();
  const firedAfterMs = await new Promise<number>((resolve) => timers.setTimeout(() => resolve(since(startMs)), 75));
  t.ok(firedAfterMs >= 74, `fired after ${firedAfterMs.toFixed(1)} ms (asked 75, steps of 20)`);
});

t.test('clearing a long timer between its steps stops it', async (t) => {
  const timers = longTimers(20);
  let fired = false;
  const handle = timers.setTimeout(() => (fired = true), 60);
  await new Promise((resolve) => setTimeout(resolve, 30));
  timers.clearTimeout(handle);
  await new Promise((resolve) => setTimeout(resolve, 80));
  t.notOk(fired);
});

t.test('a delay that is not a number fires at once; an infinite one never', async (t) => {
  const timers = longTimers();
  const nan = await new Promise<boolean>((resolve) => {
    timers.setTimeout(() => resolve(true), Number.NaN);
    setTimeout(() => resolve(false), 200);
  });
  t.ok(nan);
  let fired = false;
  const handle = timers.setTimeout(() => (fired = true), Number.POSITIVE_INFINITY);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.notOk(fired);
  timers.clearTimeout(handle);
});

import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LinuxWatchdog } from '../../hal/linux/watchdog.js';

/** A regular file stands in for /dev/watchdog: every write to the device lands in it. */

t.test('feeding writes to the device, at most once per interval', async (t) => {
  const path = join(t.testdir({ watchdog: '' }), 'watchdog');
  const watchdog = new LinuxWatchdog({ path, minFeedIntervalMs: 60_000 });
  watchdog.feed();
  watchdog.feed();
  watchdog.feed();
  t.equal(readFileSync(path, 'latin1'), '\0', 'one write for three feeds within the interval');
  watchdog.close();
});

t.test('every feed is written when the interval is 0', async (t) => {
  const path = join(t.testdir({ watchdog: '' }), 'watchdog');
  const watchdog = new LinuxWatchdog({ path, minFeedIntervalMs: 0 });
  for (let i = 0; i < 5; i++) watchdog.feed();
  t.equal(readFileSync(path, 'latin1'), '\0'.repeat(5));
  watchdog.close();
});

t.test('a clean close writes the magic V, and nothing is written after it', async (t) => {
  const path = join(t.testdir({ watchdog: '' }), 'watchdog');
  const watchdog = new LinuxWatchdog({ path, minFeedIntervalMs: 0 });
  watchdog.feed();
  watchdog.close();
  watchdog.feed();
  watchdog.close();
  t.equal(readFileSync(path, 'latin1'), '\0V');
});

t.test('a missing device is a clear error naming the path', async (t) => {
  const path = join(t.testdir({}), 'no-such-watchdog');
  t.throws(() => new LinuxWatchdog({ path }), { message: `watchdog: cannot open ${path}: ENOENT` });
});

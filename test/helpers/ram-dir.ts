import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';

/**
 * A data folder in memory (`/dev/shm`), removed when the test ends; the test's own fixture folder
 * where there is none. For cases that keep thousands of records, each synced before the next
 * (the transaction queue keeps every confirmation before it sends the next message): on tmpfs a
 * sync returns at once, on this machine's disk each took 3–6 ms. Only where what the case checks
 * does not depend on the medium; the durability tests use a real disk.
 */
export function ramDir(t: Test): string {
  if (!existsSync('/dev/shm')) return t.testdir({});
  const dir = mkdtempSync(join('/dev/shm', 'wallbox-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

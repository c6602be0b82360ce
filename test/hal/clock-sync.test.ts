import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { systemClock } from '../../hal/clock.js';
import { OsClockSync } from '../../hal/linux/clock-sync.js';
import { silentLogger } from '../../firmware/log.js';

/** CONTRACT §5 on Linux: the system clock counts as synchronised once timedatectl says NTPSynchronized=yes. */

async function withTimedatectl(t: Test, answer: string): Promise<OsClockSync> {
  const dir = t.testdir();
  const script = join(dir, 'timedatectl');
  await writeFile(script, `#!/bin/sh\n[ "$*" = "show -p NTPSynchronized --value" ] && echo ${answer}\n`);
  await chmod(script, 0o755);
  const path = process.env['PATH'];
  process.env['PATH'] = `${dir}:${path ?? ''}`;
  t.teardown(() => {
    process.env['PATH'] = path;
  });
  const sync = new OsClockSync(systemClock, silentLogger);
  t.teardown(() => sync.stop());
  sync.start();
  return sync;
}

const settle = async (done: () => boolean): Promise<boolean> => {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return done();
};

t.test('NTPSynchronized=yes: synchronised', async (t) => {
  const sync = await withTimedatectl(t, 'yes');
  t.ok(await settle(() => sync.synced));
});

t.test("NTPSynchronized=no: not synchronised (the central system's time is used)", async (t) => {
  const sync = await withTimedatectl(t, 'no');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.notOk(sync.synced);
});

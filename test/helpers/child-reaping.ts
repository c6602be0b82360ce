import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';

/**
 * `spawn`, but the child is killed by the kernel when the test process dies (util-linux
 * `setpriv --pdeathsig KILL`, which then execs the program: same pid, same signals). tap ends a
 * timed-out test file with a signal, so its teardowns never run: without this, a firmware left
 * running kept writing into the file's fixture folder and made the next run of that file fail.
 */
export function spawnReaped(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  if (!existsSync(SETPRIV)) return spawn(command, args, options);
  return spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args], options);
}

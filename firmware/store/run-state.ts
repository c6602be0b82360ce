import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { isJsonObject, readStoredJson, saveFile } from './atomic-file.js';

/** `dataDir/state.json`: which kernel boot the firmware ran under, and whether it stopped cleanly. */
export interface RunState {
  readonly bootId: string;
  readonly cleanStop: boolean;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
  readonly energyWh?: number | null;
}

/**
 * The kernel's id of this boot of the machine: the same across restarts of the process, new after
 * a power loss or a reboot. Without /proc (not Linux) every start counts as a new boot.
 */
export async function readBootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return `unknown-${randomUUID()}`;
  }
}

function statePath(dataDir: string): string {
  return join(dataDir, 'state.json');
}

/** The previous run's state (null: none, or set aside as damaged). */
export async function readRunState(dataDir: string, log: Logger): Promise<RunState | null> {
  const isRunState = (stored: unknown): stored is RunState | null =>
    stored === null || (isJsonObject<RunState>(stored) && typeof stored.cleanStop === 'boolean');
  return readStoredJson<RunState | null>(statePath(dataDir), null, isRunState, log);
}

/** Writes the run state; a disk that refuses is logged, never fatal. */
export async function writeRunState(dataDir: string, state: RunState, log: Logger): Promise<void> {
  await saveFile(statePath(dataDir), JSON.stringify(state), log);
}

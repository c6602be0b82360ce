import { createLogger, type Logger } from '../../firmware/log.js';
import type { Clock } from '../../hal/clock.js';

/**
 * Small additions to the in-process rigs (`ocpp-rig.ts`), kept apart from the rig itself.
 */

/**
 * The firmware's log lines kept for a test on the in-process rigs, stamped with the rig's clock
 * (simulated time): what `FirmwareProcess.logs` is for a spawned bundle. Pass `logger` as the rig's
 * `log`, then `useClock(rig.clock)`; until then lines are stamped with the host clock.
 */
export interface RigLogs {
  readonly logger: Logger;
  readonly lines: Array<Record<string, unknown>>;
  useClock(clock: Clock): void;
  /** The first line (from index `from`) that matches, or undefined. */
  find(match: (line: Record<string, unknown>) => boolean, from?: number): Record<string, unknown> | undefined;
}

export function rigLogs(level: 'debug' | 'info' = 'debug'): RigLogs {
  const lines: Array<Record<string, unknown>> = [];
  let clock: Clock | null = null;
  return {
    logger: createLogger({ level, now: () => clock?.now() ?? Date.now(), write: (line) => lines.push(JSON.parse(line)) }),
    lines,
    useClock: (c) => (clock = c),
    find: (match, from = 0) => lines.slice(from).find(match),
  };
}

/**
 * Lets `ms` of the rig's time pass and says whether `seen` held at any step: the in-process
 * `relayEverClosed` (what cannot be awaited because it must not happen).
 */
export async function everDuring(
  rig: { readonly clock: Clock; pace(done: () => boolean, limitMs?: number): Promise<void> },
  ms: number,
  seen: () => boolean,
): Promise<boolean> {
  const endMs = rig.clock.now() + ms;
  let ever = seen();
  await rig.pace(() => {
    ever ||= seen();
    return rig.clock.now() >= endMs;
  }, ms + 1000);
  return ever;
}

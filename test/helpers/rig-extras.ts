import { createLogger, type Logger } from '../../firmware/log.js';
import type { Clock } from '../../hal/clock.js';
import type { CentralSystem } from './central-system.js';
import type { OcppRig } from './ocpp-rig.js';

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

/**
 * A central system that accepts every StartTransaction with transactionIds counting up from
 * `afterId + 1`; `last` is the latest it gave. Pass `prepare` as the rig's option of that name.
 */
export function numberedStarts(afterId: number): { readonly last: number; prepare(cs: CentralSystem): void } {
  let last = 0;
  let next = afterId;
  return {
    get last() {
      return last;
    },
    prepare(cs) {
      cs.handlers.StartTransaction = () => ({ transactionId: (last = ++next), idTagInfo: { status: 'Accepted' } });
    },
  };
}

/** The two waits most rig tests make: for the commanded contactor, and for Available after the car leaves. */
export function carSteps(rig: OcppRig): { relayIs(closed: boolean): Promise<void>; unplug(): Promise<void> } {
  return {
    relayIs: (closed) => rig.pace(() => rig.plant.contactorCommanded === closed, 10_000),
    unplug: async () => {
      const from = rig.cs.calls.length;
      rig.car('A');
      await rig.waitStatus('Available', from);
    },
  };
}

/** Paces the rig's time until `promise` settles (an answer from a real peer: a Modbus client, an HTTP request), and returns it. */
export async function settled<T>(
  rig: { pace(done: () => boolean, limitMs?: number): Promise<void> },
  promise: Promise<T>,
  limitMs = 10_000,
): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => (done = true));
  tracked.catch(() => {}); // awaited below: a rejection while time is paced is not unhandled
  await rig.pace(() => done, limitMs);
  return tracked;
}

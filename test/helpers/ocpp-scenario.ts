import { createServer, type AddressInfo } from 'node:net';
import { RPCServer } from 'ocpp-rpc';
import type { CentralSystem, RecordedCall } from './central-system.js';
import { pollUntil, type RunningBox } from './firmware-process.js';

/**
 * Small helpers shared by the OCPP scenario tests (authorization, remote, availability,
 * backend failures). Not a test file itself (tap runs `*.test.ts` only).
 */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The calls recorded since index `from`. */
export function since(cs: CentralSystem, from: number, action?: string): RecordedCall[] {
  return cs.calls.slice(from).filter((c) => action === undefined || c.action === action);
}

/** The statuses of `connectorId` reported since index `from`, in order. */
export function statuses(cs: CentralSystem, from: number, connectorId = 1): string[] {
  return since(cs, from, 'StatusNotification')
    .filter((c) => c.params['connectorId'] === connectorId)
    .map((c) => c.params['status'] as string);
}

/** Waits for a StatusNotification of `connectorId` with `status` at or after `from`. */
export function waitStatus(cs: CentralSystem, status: string, from: number, connectorId = 1, timeoutMs = 10_000): Promise<RecordedCall> {
  return cs.waitForCall('StatusNotification', (p) => p['connectorId'] === connectorId && p['status'] === status, { from, timeoutMs });
}

/**
 * The sequence the central system saw since `from`, as readable steps: StatusNotification of
 * connector 1 as its status, other actions by name (with the idTag / reason when they carry
 * one); Heartbeat, MeterValues and connector 0 left out.
 */
export function sequence(cs: CentralSystem, from: number): string[] {
  return since(cs, from)
    .filter(
      (c) =>
        c.action !== 'Heartbeat' && c.action !== 'MeterValues' && !(c.action === 'StatusNotification' && c.params['connectorId'] === 0),
    )
    .map((c) => {
      if (c.action === 'StatusNotification') return String(c.params['status']);
      if (c.action === 'StopTransaction') return `StopTransaction(${String(c.params['reason'])})`;
      if (c.action === 'Authorize' || c.action === 'StartTransaction') return `${c.action}(${String(c.params['idTag'])})`;
      return c.action;
    });
}

/** Samples GET /sim for `ms` and returns whether the contactor was ever seen closed. */
export async function relayEverClosed(box: RunningBox, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await box.sim())['relayClosed'] === true) return true;
    await sleep(25);
  }
  return false;
}

export function waitRelay(box: RunningBox, closed: boolean, timeoutMs = 10_000): Promise<Record<string, any>> {
  return pollUntil(box.sim, (s) => s['relayClosed'] === closed, timeoutMs);
}

/** Unplugs the car and waits until connector 1 reports `status` (Available unless told). */
export async function unplug(cs: CentralSystem, box: RunningBox, status = 'Available'): Promise<void> {
  const from = cs.calls.length;
  await box.simPost('/sim/ev', { state: 'A' });
  await waitStatus(cs, status, from);
}

/** Plugs the car in asking for power (state C). */
export async function plugIn(box: RunningBox): Promise<void> {
  await box.simPost('/sim/ev', { state: 'C' });
}

export async function presentCard(box: RunningBox, idTag: string): Promise<void> {
  await box.simPost('/sim/rfid', { idTag });
}

/** An ISO time `ms` from now. */
export const inMs = (ms: number): string => new Date(Date.now() + ms).toISOString();

/** A loopback TCP port nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface MiniCentralSystem {
  readonly calls: RecordedCall[];
  waitForCall(action: string, match?: (params: Record<string, any>) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  close(): Promise<void>;
}

/**
 * A strict `ocpp-rpc` central system on a given port (the shared helper always takes a free
 * one): used to bring a backend "back" on the port the firmware has been failing to reach.
 */
export async function startCentralSystemOnPort(port: number): Promise<MiniCentralSystem> {
  const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
  const calls: RecordedCall[] = [];
  let transactionId = 500;
  const answers: Record<string, () => Record<string, any>> = {
    BootNotification: () => ({ status: 'Accepted', interval: 300, currentTime: new Date().toISOString() }),
    Heartbeat: () => ({ currentTime: new Date().toISOString() }),
    StatusNotification: () => ({}),
    Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
    StartTransaction: () => ({ transactionId: ++transactionId, idTagInfo: { status: 'Accepted' } }),
    StopTransaction: () => ({ idTagInfo: { status: 'Accepted' } }),
    MeterValues: () => ({}),
  };
  server.auth((accept: (session?: Record<string, unknown>, protocol?: string) => void) => accept({}, 'ocpp1.6'));
  server.on('client', (client: any) => {
    client.handle(async ({ method, params }: { method: string; params: Record<string, any> }) => {
      calls.push({ action: method, params, atMs: Date.now() });
      const answer = answers[method];
      if (!answer) throw new Error(`no handler for ${method}`);
      return answer();
    });
  });
  await server.listen(port, '127.0.0.1');
  return {
    calls,
    async waitForCall(action, match = () => true, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = calls.find((c) => c.action === action && match(c.params));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${action} within ${timeoutMs} ms; calls: ${calls.map((c) => c.action).join(', ')}`);
        await sleep(20);
      }
    },
    close: () => server.close({ force: true, awaitPending: false }),
  };
}

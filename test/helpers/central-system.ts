import type { AddressInfo } from 'node:net';
import { RPCServer } from 'ocpp-rpc';
import { WatchedList } from './watched-list.js';

/**
 * An independent OCPP 1.6J central system: `ocpp-rpc`'s server in strict mode, which checks every
 * message in both directions against the official schemas. It records the charge point's calls
 * and answers them with defaults that a test may override per action.
 */

export interface RecordedCall {
  readonly action: string;
  readonly params: Record<string, any>;
  readonly atMs: number;
}

type Handler = (params: Record<string, any>) => Record<string, any> | Promise<Record<string, any>>;

export interface CentralSystem {
  readonly url: string;
  readonly calls: RecordedCall[];
  /** Answers of the charge point to our calls, in order. */
  handlers: Record<string, Handler>;
  /** Resolves with the first recorded call (past or future) matching, after index `from`. */
  waitForCall(action: string, match?: (params: Record<string, any>) => boolean, options?: { timeoutMs?: number; from?: number }): Promise<RecordedCall>;
  /** Calls the connected charge point. */
  call(action: string, params: Record<string, any>): Promise<any>;
  /** Sends a raw text frame to the charge point. */
  sendRaw(text: string): void;
  /** Connections seen so far, with their handshake. */
  readonly connections: Array<{ identity: string; password: string | null; protocol: string | undefined }>;
  /** The connected client's socket (to stop answering pings, or to drop it). */
  client(): any;
  close(): Promise<void>;
}

export async function startCentralSystem(options: { strict?: boolean; port?: number } = {}): Promise<CentralSystem> {
  const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: options.strict ?? true });
  const recorded = new WatchedList<RecordedCall>();
  const calls = recorded.items;
  const connections: CentralSystem['connections'] = [];
  let transactionId = 100;
  let current: any = null;
  const now = () => new Date().toISOString();
  const cs: CentralSystem = {
    url: '',
    calls,
    connections,
    handlers: {
      BootNotification: () => ({ status: 'Accepted', interval: 300, currentTime: now() }),
      Heartbeat: () => ({ currentTime: now() }),
      StatusNotification: () => ({}),
      Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
      StartTransaction: () => ({ transactionId: ++transactionId, idTagInfo: { status: 'Accepted' } }),
      StopTransaction: () => ({ idTagInfo: { status: 'Accepted' } }),
      MeterValues: () => ({}),
    },
    waitForCall(action, match = () => true, { timeoutMs = 10_000, from = 0 } = {}) {
      return recorded.waitFor(
        (items) => items.slice(from).find((c) => c.action === action && match(c.params)),
        timeoutMs,
        () => `no ${action} within ${timeoutMs} ms; calls: ${calls.map((c) => c.action).join(', ')}`,
      );
    },
    call: (action, params) => current.call(action, params),
    sendRaw: (text) => current.sendRaw(text),
    client: () => current,
    close: async () => {
      await server.close({ force: true, awaitPending: false });
    },
  };
  server.auth((accept: (session?: Record<string, unknown>, protocol?: string) => void, _reject: unknown, handshake: any) => {
    connections.push({ identity: handshake.identity, password: handshake.password ? handshake.password.toString() : null, protocol: [...handshake.protocols][0] });
    accept({}, 'ocpp1.6');
  });
  server.on('client', (client: any) => {
    current = client;
    client.handle(async ({ method, params }: { method: string; params: Record<string, any> }) => {
      recorded.push({ action: method, params, atMs: Date.now() });
      const handler = cs.handlers[method];
      if (!handler) throw new Error(`no handler for ${method}`);
      return handler(params);
    });
  });
  const http = await server.listen(options.port ?? 0, '127.0.0.1');
  (cs as { url: string }).url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ocpp`;
  return cs;
}

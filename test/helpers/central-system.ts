import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
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
  /** When it arrived: the host clock, or the `now` the central system was started with (a rig's simulated clock). */
  readonly atMs: number;
}

type Handler = (params: Record<string, any>) => Record<string, any> | Promise<Record<string, any>>;

export interface CentralSystem {
  readonly url: string;
  readonly calls: RecordedCall[];
  /** Answers of the charge point to our calls, in order. */
  handlers: Record<string, Handler>;
  /** Resolves with the first recorded call (past or future) matching, after index `from`. */
  waitForCall(
    action: string,
    match?: (params: Record<string, any>) => boolean,
    options?: { timeoutMs?: number; from?: number },
  ): Promise<RecordedCall>;
  /** Calls the connected charge point. */
  call(action: string, params: Record<string, any>): Promise<any>;
  /** Sends a raw text frame to the charge point. */
  sendRaw(text: string): void;
  /** Connections seen so far, with their handshake: over TLS or not, and the client certificate presented. */
  readonly connections: Array<{
    identity: string;
    password: string | null;
    protocol: string | undefined;
    secure: boolean;
    clientCertificate: { subject: Record<string, string>; serialNumber: string } | null;
  }>;
  /** Whether a handshake's password is good; a refused one gets HTTP 401. */
  acceptPassword: (password: string | null) => boolean;
  /** The connected client's socket (to stop answering pings, or to drop it). */
  client(): any;
  close(): Promise<void>;
}

/** TLS for the central system (PEM file paths). */
export interface CentralSystemTls {
  readonly cert: string;
  readonly key: string;
  /** Asks for a client certificate that chains to this CA. */
  readonly clientCa?: string;
  /** Refuses a handshake without one (otherwise profile 2 clients share the port). */
  readonly requireClientCertificate?: boolean;
}

/**
 * Serves `ws://` and, with `tls`, `wss://` on the same port: a charge point whose security profile
 * goes from 1 to 2 keeps its host and port. A front port passes each connection to the plain or
 * the TLS server by its first byte (0x16 starts a TLS ClientHello).
 */
async function listen(server: RPCServer, port: number, tls: CentralSystemTls | undefined): Promise<{ port: number; close(): void }> {
  if (tls === undefined) {
    const http: Server = await server.listen(port, '127.0.0.1');
    return { port: (http.address() as AddressInfo).port, close: () => http.close() };
  }
  const plain = createHttpServer();
  const secure = createHttpsServer({
    cert: readFileSync(tls.cert),
    key: readFileSync(tls.key),
    ...(tls.clientCa !== undefined && {
      ca: readFileSync(tls.clientCa),
      requestCert: true,
      rejectUnauthorized: tls.requireClientCertificate === true,
    }),
  });
  const backends = await Promise.all(
    [plain, secure].map(async (http) => {
      http.on('upgrade', server.handleUpgrade);
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      return (http.address() as AddressInfo).port;
    }),
  );
  const front = createNetServer((socket) => {
    socket.once('data', (first) => {
      const backend = connect(first[0] === 0x16 ? (backends[1] as number) : (backends[0] as number), '127.0.0.1');
      backend.write(first);
      socket.pipe(backend).pipe(socket);
      const end = (): void => {
        socket.destroy();
        backend.destroy();
      };
      socket.on('error', end).on('close', end);
      backend.on('error', end).on('close', end);
    });
  });
  await new Promise<void>((resolve) => front.listen(port, '127.0.0.1', resolve));
  return {
    port: (front.address() as AddressInfo).port,
    close: () => {
      front.close();
      for (const http of [plain, secure]) {
        http.close();
        http.closeAllConnections();
      }
    },
  };
}

export async function startCentralSystem(
  options: { strict?: boolean; port?: number; tls?: CentralSystemTls; now?: () => number } = {},
): Promise<CentralSystem> {
  const stamp = options.now ?? Date.now;
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
    acceptPassword: () => true,
    call: (action, params) => current.call(action, params),
    sendRaw: (text) => current.sendRaw(text),
    client: () => current,
    close: async () => {
      await server.close({ force: true, awaitPending: false });
      listener.close();
    },
  };
  server.auth(
    (
      accept: (session?: Record<string, unknown>, protocol?: string) => void,
      reject: (code: number, message: string) => void,
      handshake: any,
    ) => {
      const password = handshake.password ? handshake.password.toString() : null;
      const socket = handshake.request.socket as TLSSocket;
      const peer = socket.encrypted ? socket.getPeerCertificate() : null;
      const clientCertificate =
        peer !== null && peer.subject !== undefined
          ? { subject: { ...peer.subject } as Record<string, string>, serialNumber: peer.serialNumber }
          : null;
      connections.push({
        identity: handshake.identity,
        password,
        protocol: [...handshake.protocols][0],
        secure: socket.encrypted === true,
        clientCertificate,
      });
      if (!cs.acceptPassword(password)) {
        reject(401, 'Unauthorized');
        return;
      }
      accept({}, 'ocpp1.6');
    },
  );
  server.on('client', (client: any) => {
    current = client;
    client.handle(async ({ method, params }: { method: string; params: Record<string, any> }) => {
      recorded.push({ action: method, params, atMs: stamp() });
      const handler = cs.handlers[method];
      if (!handler) throw new Error(`no handler for ${method}`);
      return handler(params);
    });
  });
  const listener = await listen(server, options.port ?? 0, options.tls);
  // localhost: the name the test server certificates carry.
  (cs as { url: string }).url = `ws://${options.tls ? 'localhost' : '127.0.0.1'}:${listener.port}/ocpp`;
  return cs;
}

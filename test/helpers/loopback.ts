import type { LinkTarget } from '../../firmware/ocpp/connection.js';
import { ocpp16, type OcppAction } from '../../firmware/ocpp/messages.js';
import type { Connector, Link, LinkEvents, RpcPort } from '../../firmware/ocpp/session.js';

/**
 * An in-memory transport for the charge point (`ChargePointOptions.connector`): frames go to an
 * in-process central system and back without a socket, each delivered on a later turn of the
 * event loop as a socket would, so a test on the simulated clock needs no port and no real time.
 * Not a test file itself.
 */

/** The central system's end of the loopback. */
export interface LoopbackPeer {
  /** The charge point connected; `send` delivers a frame to it while the link is open. */
  opened(send: (text: string) => void): void;
  /** A frame from the charge point. */
  received(text: string): void;
  /** The link closed (stop, reconnect, retarget). */
  closed(): void;
}

const LOOPBACK_TARGET: LinkTarget = { url: 'ws://loopback', password: '' };

export function loopbackConnector(peer: LoopbackPeer): Connector {
  return (events, rpc) => new LoopbackLink(events, rpc, peer);
}

class LoopbackLink implements Link {
  readonly #events: LinkEvents;
  readonly #rpc: RpcPort;
  readonly #peer: LoopbackPeer;
  #target = LOOPBACK_TARGET;
  /** Which connection is open (0: none): a frame of a closed one is dropped, as a closed socket's would be. */
  #connection = 0;
  #connections = 0;

  constructor(events: LinkEvents, rpc: RpcPort, peer: LoopbackPeer) {
    this.#events = events;
    this.#rpc = rpc;
    this.#peer = peer;
  }

  get target(): LinkTarget {
    return this.#target;
  }

  get open(): boolean {
    return this.#connection !== 0 && this.#rpc.connected;
  }

  start(): void {
    setImmediate(() => this.#connect());
  }

  async stop(): Promise<void> {
    this.#close(false);
  }

  reconnect(): void {
    this.#close(true);
    setImmediate(() => this.#connect());
  }

  retarget(target: LinkTarget, reason: string | null): void {
    this.#target = target;
    if (reason !== null && this.#connection !== 0) this.reconnect();
  }

  linkProven(): void {}

  pingIntervalChanged(): void {}

  #connect(): void {
    if (this.#connection !== 0) return;
    const connection = ++this.#connections;
    this.#connection = connection;
    const live = (): boolean => this.#connection === connection;
    this.#rpc.attach({ send: (text) => setImmediate(() => live() && this.#peer.received(text)) });
    this.#peer.opened((text) => setImmediate(() => live() && this.#rpc.receive(text)));
    this.#events.onOpen();
  }

  #close(tell: boolean): void {
    if (this.#connection === 0) return;
    this.#connection = 0;
    this.#rpc.detach();
    this.#peer.closed();
    if (tell) this.#events.onClose();
  }
}

/** A CALL the central system received, checked against the schema of its action. */
export interface LoopbackCall {
  readonly action: string;
  readonly payload: unknown;
  /** Why the schema refuses it (null: valid). */
  readonly violation: string | null;
}

type Handler = (payload: unknown) => object;

/**
 * A strict in-process central system on the loopback: every CALL of the charge point is checked
 * against the same official schemas (a violation is answered with a CALLERROR and recorded), and
 * answered by its handler (defaults: BootNotification Accepted with `interval`, Heartbeat with
 * `now()`, an empty answer for the notifications). It can call the charge point too.
 */
export class LoopbackCentralSystem implements LoopbackPeer {
  readonly calls: LoopbackCall[] = [];
  readonly #handlers = new Map<string, Handler>();
  readonly #answers = new Map<string, (result: unknown) => void>();
  #send: ((text: string) => void) | null = null;
  #nextId = 0;

  constructor(now: () => string, interval = 300) {
    this.handle('BootNotification', () => ({ status: 'Accepted', currentTime: now(), interval }));
    this.handle('Heartbeat', () => ({ currentTime: now() }));
  }

  get connected(): boolean {
    return this.#send !== null;
  }

  handle(action: string, handler: Handler): void {
    this.#handlers.set(action, handler);
  }

  /** CALLs of `action` received so far. */
  callsOf(action: string): LoopbackCall[] {
    return this.calls.filter((call) => call.action === action);
  }

  received(text: string): void {
    const frame: unknown = JSON.parse(text);
    if (!Array.isArray(frame) || typeof frame[1] !== 'string') return;
    const [type, id, third, fourth]: unknown[] = frame;
    if (typeof id !== 'string') return;
    if (type === 3) {
      this.#answers.get(id)?.(third);
      this.#answers.delete(id);
      return;
    }
    if (type !== 2 || typeof third !== 'string') return;
    const checked = ocpp16.isAction(third) ? ocpp16.request(third, fourth) : null;
    const violation = checked === null ? `unknown action ${third}` : checked.ok ? null : checked.violation.description;
    this.calls.push({ action: third, payload: fourth, violation });
    if (violation !== null) return this.#reply([4, id, 'FormationViolation', violation, {}]);
    this.#reply([3, id, this.#handlers.get(third)?.(fourth) ?? {}]);
  }

  /** Calls the charge point; resolves with its CALLRESULT payload. */
  call(action: OcppAction, payload: object): Promise<unknown> {
    const id = `cs-${++this.#nextId}`;
    return new Promise((resolve) => {
      this.#answers.set(id, resolve);
      this.#reply([2, id, action, payload]);
    });
  }

  opened(send: (text: string) => void): void {
    this.#send = send;
  }

  closed(): void {
    this.#send = null;
  }

  #reply(frame: unknown[]): void {
    this.#send?.(JSON.stringify(frame));
  }
}

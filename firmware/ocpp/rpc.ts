import { randomUUID } from 'node:crypto';
import type { Clock } from '../../hal/clock.js';
import type { Logger } from '../log.js';
import { RateLimitedLog } from '../log-rate.js';
import { PendingRequests } from '../request-reply.js';
import { ocpp16, type ActionOf, type MessageMap, type MessageModel, type Ocpp16Messages } from './messages.js';
import type { RpcErrorCode, SchemaViolation } from './schemas.js';

/** A CALLERROR, received or to be sent. */
export class RpcError extends Error {
  constructor(
    readonly code: RpcErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

/** Where frames go: the WebSocket of the connection. */
export interface RpcTransport {
  send(text: string): void;
}

/** Serves one action: its typed request in, its response (or a promise of it) out. */
export type CallHandler<M extends MessageMap<M>, A extends ActionOf<M>> = (
  payload: M[A]['request'],
) => M[A]['response'] | Promise<M[A]['response']>;

/** A served action as kept: checks the payload, then runs the typed handler. */
type Served = (payload: unknown) => { readonly violation: SchemaViolation } | { readonly run: () => unknown };

export interface OcppRpcOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** How long a CALL waits for its CALLRESULT (OCPP-J leaves it to the implementation). */
  readonly callTimeoutMs?: number;
  /** Whether CALLs of the central system are served now (false while Boot is Rejected); default always. */
  readonly serving?: () => boolean;
}

/**
 * CALLs from the central system being processed at once; one more is refused with a CALLERROR
 * GenericError "busy". OCPP-J 1.6 (RPC framework, "Synchronicity") has a sender wait for the
 * answer to its CALL before the next, so a conforming central system has one at a time; the bound
 * keeps a flood from piling up handlers. The CALLERROR codes of OCPP-J 1.6 have none for "busy";
 * GenericError is the one it gives for any other error.
 */
export const MAX_INCOMING_CALLS = 8;

/**
 * Outgoing CALLs waiting for their turn (one outstanding at a time) or for their answer; one more
 * is refused at once. The box itself queues a handful at most (a reconnect sends the notifications
 * kept meanwhile, transaction messages wait in their own persistent queue).
 */
export const MAX_WAITING_CALLS = 256;

const CALL = 2;
const CALLRESULT = 3;
const CALLERROR = 4;

const ERROR_CODES: ReadonlySet<string> = new Set<RpcErrorCode>([
  'NotImplemented',
  'NotSupported',
  'InternalError',
  'ProtocolError',
  'SecurityError',
  'FormationViolation',
  'PropertyConstraintViolation',
  'OccurenceConstraintViolation',
  'TypeConstraintViolation',
  'GenericError',
]);

function isRpcErrorCode(code: unknown): code is RpcErrorCode {
  return typeof code === 'string' && ERROR_CODES.has(code);
}

/**
 * OCPP-J RPC framing (CALL / CALLRESULT / CALLERROR): unique message ids, one outstanding CALL at
 * a time, a timeout per call, and every payload in and out checked against the schemas of the
 * message model `M` (OCPP 1.6's: `OcppRpc`). An incoming CALL that breaks them gets the matching
 * CALLERROR; a CALLRESULT that breaks them fails the call. The framing is the same in OCPP 2.0.1.
 */
export class RpcEndpoint<M extends MessageMap<M>> {
  readonly #model: MessageModel<M>;
  readonly #log: Logger;
  readonly #serving: () => boolean;
  readonly #handlers = new Map<string, Served>();
  #transport: RpcTransport | null = null;
  /** The outstanding CALL (one at a time). */
  readonly #pending: PendingRequests<string>;
  #queue: Promise<unknown> = Promise.resolve();
  /** Outgoing CALLs queued or outstanding. */
  #waitingCalls = 0;
  /** Incoming CALLs not yet answered. */
  #incoming = 0;
  /** Lines about a misbehaving central system: rate-limited, it could otherwise flush the diagnostics log. */
  readonly #peerLog: RateLimitedLog;

  constructor(model: MessageModel<M>, options: OcppRpcOptions) {
    this.#model = model;
    this.#log = options.log.child({ module: 'ocpp' });
    this.#pending = new PendingRequests({
      clock: options.clock,
      timeoutMs: options.callTimeoutMs ?? 30_000,
      maxPending: 1,
      full: (action) => new RpcError('GenericError', `${action} not sent: another CALL is outstanding`),
      nextId: randomUUID,
    });
    this.#peerLog = new RateLimitedLog({ log: this.#log, clock: options.clock, about: 'OCPP central system' });
    this.#serving = options.serving ?? (() => true);
  }

  get connected(): boolean {
    return this.#transport !== null;
  }

  /** The link is up: frames go to `transport`. */
  attach(transport: RpcTransport): void {
    this.#transport = transport;
  }

  /** The link is down: the outstanding call fails, later calls fail until the next attach. */
  detach(): void {
    this.#transport = null;
    this.#pending.failAll(new RpcError('GenericError', 'connection lost'));
  }

  /** Serves `action` from the central system. */
  handle<A extends ActionOf<M>>(action: A, handler: CallHandler<M, A>): void {
    this.#handlers.set(action, (payload) => {
      const request = this.#model.request(action, payload);
      return request.ok ? { run: () => handler(request.value) } : { violation: request.violation };
    });
  }

  /** Sends a CALL once every earlier one has finished; resolves with the checked CALLRESULT payload. */
  call<A extends ActionOf<M>>(action: A, payload: M[A]['request']): Promise<M[A]['response']> {
    const request = this.#model.request(action, payload);
    if (!request.ok) return Promise.reject(new Error(`refusing to send an invalid ${action}: ${request.violation.description}`));
    // A central system that triggers messages (TriggerMessage) faster than it answers them must not grow this queue.
    if (this.#waitingCalls >= MAX_WAITING_CALLS)
      return Promise.reject(new RpcError('GenericError', `${action} not sent: ${MAX_WAITING_CALLS} CALLs are waiting`));
    this.#waitingCalls += 1;
    const result = this.#queue.then(() => this.#send(action, payload)).finally(() => (this.#waitingCalls -= 1));
    this.#queue = result.catch(() => {});
    return result;
  }

  /** One text frame from the central system. */
  receive(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.#peerLog.warn('OCPP frame is not JSON; ignored', { length: text.length });
      return;
    }
    if (!Array.isArray(frame) || typeof frame[1] !== 'string') {
      this.#peerLog.warn('OCPP frame without a message id; ignored');
      return;
    }
    const type: unknown = frame[0];
    const id = String(frame[1]);
    if (type === CALL) {
      // OCPP 1.6 §4.2: a charge point whose BootNotification was Rejected does not respond.
      if (this.#serving()) this.#answer(id, frame);
      else this.#peerLog.warn('CALL not answered: BootNotification was Rejected', { action: String(frame[2]) });
    } else if (type === CALLRESULT) this.#result(id, frame);
    else if (type === CALLERROR) this.#error(id, frame);
    else this.#peerLog.warn('OCPP frame of unknown type; ignored', { type: String(type) });
  }

  #send<A extends ActionOf<M>>(action: A, payload: M[A]['request']): Promise<M[A]['response']> {
    const transport = this.#transport;
    if (!transport) return Promise.reject(new RpcError('GenericError', 'not connected'));
    return this.#pending.request({
      label: action,
      send: (id) => transport.send(JSON.stringify([CALL, id, action, payload])),
      check: (response) => {
        const checked = this.#model.response(action, response);
        return checked.ok ? { ok: true, value: checked.value } : { ok: false, error: this.#invalidResult(action, checked.violation) };
      },
      timedOut: () => new RpcError('GenericError', `${action} timed out`),
    });
  }

  #result(id: string, frame: unknown[]): void {
    const action = this.#pending.label(id);
    if (action === undefined) {
      this.#peerLog.warn('CALLRESULT for no outstanding call; ignored', { id });
      return;
    }
    if (frame.length === 3) this.#pending.reply(id, frame[2]);
    else this.#pending.fail(id, this.#invalidResult(action, { code: 'ProtocolError', description: 'CALLRESULT must have 3 elements' }));
  }

  /** A CALLRESULT that breaks the schema or the framing fails its call. */
  #invalidResult(action: string, violation: SchemaViolation): RpcError {
    this.#peerLog.warn('invalid CALLRESULT: the call failed', { action, violation: violation.description });
    return new RpcError(violation.code, `invalid ${action} response: ${violation.description}`);
  }

  #error(id: string, frame: unknown[]): void {
    const action = this.#pending.label(id);
    if (action === undefined) return;
    const code = isRpcErrorCode(frame[2]) ? frame[2] : 'GenericError';
    const description = typeof frame[3] === 'string' ? frame[3] : '';
    const details: Record<string, unknown> = frame[4] !== null && typeof frame[4] === 'object' ? { ...frame[4] } : {};
    this.#pending.fail(id, new RpcError(code, `${action}: ${code} ${description}`.trim(), details));
  }

  /** A binary frame: OCPP-J frames are JSON text. */
  ignoreBinary(): void {
    this.#peerLog.warn('binary OCPP frame ignored');
  }

  /** Lines about the peer held back so far go out now (at shutdown). */
  flushLog(): void {
    this.#peerLog.close();
  }

  /**
   * Checks a CALL and runs its handler. The answer goes out at once when the handler has it at
   * once; a handler still working counts against MAX_INCOMING_CALLS until it answers.
   */
  #answer(id: string, frame: unknown[]): void {
    const reply = (message: unknown[]): void => this.#transport?.send(JSON.stringify(message));
    const fail = (code: RpcErrorCode, description: string): void => reply([CALLERROR, id, code, description, {}]);
    const [, , action, payload] = frame;
    if (frame.length !== 4 || typeof action !== 'string') return fail('ProtocolError', 'a CALL has 4 elements: 2, id, action, payload');
    if (!this.#model.isAction(action)) return fail('NotImplemented', `unknown action ${action}`);
    const served = this.#handlers.get(action);
    if (!served) return fail('NotSupported', `${action} is not supported`);
    const accepted = served(payload);
    if ('violation' in accepted) return fail(accepted.violation.code, accepted.violation.description);
    if (this.#incoming >= MAX_INCOMING_CALLS) {
      this.#peerLog.warn('OCPP CALL refused: too many being processed', { action, processing: this.#incoming });
      return fail('GenericError', `busy: ${MAX_INCOMING_CALLS} CALLs are being processed`);
    }
    const failed = (err: unknown): void => {
      if (err instanceof RpcError) return fail(err.code, err.message);
      this.#log.error('OCPP handler failed', { action, err });
      fail('InternalError', `${action} failed`);
    };
    const answered = (response: unknown): void => {
      const checked = this.#model.response(action, response);
      if (checked.ok) return reply([CALLRESULT, id, checked.value]);
      this.#log.error('OCPP handler produced an invalid response', { action, violation: checked.violation.description });
      fail('InternalError', `${action} produced an invalid response`);
    };
    let response: unknown;
    try {
      response = accepted.run();
    } catch (err) {
      return failed(err);
    }
    if (!(response instanceof Promise)) return answered(response);
    this.#incoming += 1;
    response
      .then(answered, failed)
      .catch((err: unknown) => this.#log.error('OCPP answer not sent', { action, err }))
      .finally(() => (this.#incoming -= 1));
  }
}

/** The RPC endpoint of OCPP 1.6J. */
export class OcppRpc extends RpcEndpoint<Ocpp16Messages> {
  constructor(options: OcppRpcOptions) {
    super(ocpp16, options);
  }
}

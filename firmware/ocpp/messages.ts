import type { Ocpp16Messages } from '../../vendor/ocpp1.6-schemas/ocpp1_6.js';
import { checkPayload, isOcppAction, type SchemaViolation } from './schemas.js';

export type { Ocpp16Messages };

/**
 * A protocol's messages: for each action the type of its request and of its response. OCPP 1.6's
 * is generated from the official schemas (`vendor/ocpp1.6-schemas/ocpp1_6.ts`); OCPP 2.0.1 would
 * bring its own map and model, with the same RPC framing (`rpc.ts`).
 */
export type MessageMap<M> = { readonly [A in keyof M]: { readonly request: object; readonly response: object } };
export type ActionOf<M> = keyof M & string;
/** An OCPP 1.6 action's request and response. */
export type RequestOf<A extends ActionOf<Ocpp16Messages>> = Ocpp16Messages[A]['request'];
export type ResponseOf<A extends ActionOf<Ocpp16Messages>> = Ocpp16Messages[A]['response'];
export type OcppAction = ActionOf<Ocpp16Messages>;

/** The schema's verdict on a payload from the wire: the typed message, or what is wrong with it. */
export type Verdict<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly violation: SchemaViolation };

/** How a protocol checks its messages: the only place a payload from the wire becomes a typed message. */
export interface MessageModel<M extends MessageMap<M>> {
  /** Whether the protocol defines `action`. */
  isAction(action: string): action is ActionOf<M>;
  request<A extends ActionOf<M>>(action: A, payload: unknown): Verdict<M[A]['request']>;
  response<A extends ActionOf<M>>(action: A, payload: unknown): Verdict<M[A]['response']>;
}

/**
 * The validator's verdict as a type guard: the validators and the types are made from the same
 * schema file, so a payload the validator accepts is of the generated type.
 */
function conforms<T>(
  action: string,
  kind: 'Request' | 'Response',
  payload: unknown,
  found: { violation: SchemaViolation | null },
): payload is T {
  found.violation = checkPayload(action, kind, payload);
  return found.violation === null;
}

function judge<T>(action: string, kind: 'Request' | 'Response', payload: unknown): Verdict<T> {
  const found: { violation: SchemaViolation | null } = { violation: null };
  if (conforms<T>(action, kind, payload, found)) return { ok: true, value: payload };
  return { ok: false, violation: found.violation ?? { code: 'GenericError', description: 'invalid payload' } };
}

/** OCPP 1.6 (with the security extension), checked against the official schemas. */
export const ocpp16: MessageModel<Ocpp16Messages> = {
  isAction: (action): action is ActionOf<Ocpp16Messages> => isOcppAction(action),
  request: (action, payload) => judge(action, 'Request', payload),
  response: (action, payload) => judge(action, 'Response', payload),
};

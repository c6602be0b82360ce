import type { ChargingProfile } from './model/charging-profile.js';
import type { StopReason, Transaction } from './transaction-types.js';

/** An idTag authorised before the car came (card or RemoteStart), held for ConnectionTimeOut. */
export interface Waiting {
  readonly idTag: string;
  /** Clock time the authorisation lapses (ConnectionTimeOut, OCPP 1.6 §9.1). */
  readonly untilMs: number;
  readonly reservationId: number | null;
  /** The TxProfile its RemoteStartTransaction brought, if any. */
  readonly chargingProfile: ChargingProfile | null;
}

/**
 * Where the connector's transaction is (one at a time, OCPP 1.6 §3.6):
 * - `idle`: none, and nobody authorised waits for the car;
 * - `waiting`: an idTag is authorised and waits for the car (until `untilMs`);
 * - `starting`: the start is under way (the signing meter begins, the journal keeps it);
 *   `afterEnded` remembers that the connector was Finishing when it began;
 * - `running`: the transaction runs (authorised or, after a refused StartTransaction.conf, not);
 * - `ended`: it ended with the car still plugged in (OCPP status Finishing) until unplug or the next start.
 */
export type TxPhase =
  | { readonly kind: 'idle' }
  | ({ readonly kind: 'waiting' } & Waiting)
  | { readonly kind: 'starting'; readonly idTag: string; readonly afterEnded: boolean }
  | { readonly kind: 'running'; readonly tx: Transaction }
  | { readonly kind: 'ended' };

/** The transaction state of the connector: its phase, and the two facts a start depends on. */
export interface TxState {
  /** Boot is Accepted, or the backend proved unreachable: a plug-in may start a transaction. */
  readonly ready: boolean;
  /** A car is plugged in (CP B, C or D). */
  readonly plugged: boolean;
  readonly phase: TxPhase;
}

export type TxEvent =
  | { readonly type: 'ready' }
  | { readonly type: 'plugged' }
  | { readonly type: 'unplugged' }
  /** An idTag was authorised to start (card, RemoteStart): at once if the car is there, else it waits. */
  | ({ readonly type: 'authorized' } & Waiting)
  /** The car came for the waiting idTag: its authorisation is used now (whether or not the start happens). */
  | { readonly type: 'waitTaken' }
  /** A start begins, for `idTag`. */
  | { readonly type: 'startBegun'; readonly idTag: string }
  /** The start did not happen (the signing meter failed, the car left). */
  | { readonly type: 'startAborted' }
  | { readonly type: 'started'; readonly tx: Transaction }
  | { readonly type: 'stopped' }
  /** A Reset: the OCPP side boots anew, as after a restart (its transaction was stopped first). */
  | { readonly type: 'rebooted' };

/** What the runner does after a step (data, as in `charging/session.ts`). */
export type TxEffect =
  /** A car came while ready: start for the waiting idTag or the fixed one. */
  | { readonly type: 'pluggedIn' }
  | {
      readonly type: 'start';
      readonly idTag: string;
      readonly reservationId: number | null;
      readonly chargingProfile: ChargingProfile | null;
    }
  | { readonly type: 'stop'; readonly reason: StopReason }
  /** Something the status depends on changed. */
  | { readonly type: 'changed' };

export const INITIAL_TX_STATE: TxState = { ready: false, plugged: false, phase: { kind: 'idle' } };

/** The running transaction, if any. */
export function runningTransaction(state: TxState): Transaction | null {
  return state.phase.kind === 'running' ? state.phase.tx : null;
}

/** OCPP status Finishing: the transaction ended and the car is still plugged in. */
export function isFinishing(state: TxState): boolean {
  return state.phase.kind === 'ended' || (state.phase.kind === 'starting' && state.phase.afterEnded);
}

/** A start may begin: no transaction runs or starts. */
export function mayStart(state: TxState): boolean {
  return state.phase.kind !== 'running' && state.phase.kind !== 'starting';
}

/** The authorised idTag waiting for the car, if it has not lapsed at `nowMs`. */
export function waitingAt(state: TxState, nowMs: number): Waiting | null {
  return state.phase.kind === 'waiting' && nowMs <= state.phase.untilMs ? state.phase : null;
}

/**
 * The transition function: the next state and the effects, for the runner (`transactions.ts`)
 * to carry out. Pure: no clock, no I/O.
 */
export function stepTransaction(state: TxState, event: TxEvent): { readonly state: TxState; readonly effects: readonly TxEffect[] } {
  const { phase } = state;
  switch (event.type) {
    case 'ready':
      if (state.ready) return { state, effects: [] };
      // A car already plugged in counts once.
      return { state: { ...state, ready: true }, effects: state.plugged ? [{ type: 'pluggedIn' }] : [] };
    case 'plugged':
      if (state.plugged) return { state, effects: [] };
      return { state: { ...state, plugged: true }, effects: state.ready ? [{ type: 'pluggedIn' }] : [] };
    case 'unplugged': {
      if (!state.plugged) return { state, effects: [] };
      // Finishing ends with the car gone; a running transaction ends with EVDisconnected.
      const next: TxPhase = phase.kind === 'ended' ? { kind: 'idle' } : phase.kind === 'starting' ? { ...phase, afterEnded: false } : phase;
      const stop: TxEffect[] = phase.kind === 'running' ? [{ type: 'stop', reason: 'EVDisconnected' }] : [];
      return { state: { ...state, plugged: false, phase: next }, effects: [...stop, { type: 'changed' }] };
    }
    case 'authorized': {
      const { idTag, untilMs, reservationId, chargingProfile } = event;
      if (state.plugged) return { state, effects: [{ type: 'start', idTag, reservationId, chargingProfile }] };
      // The car is not there yet: the authorisation waits for it (ConnectionTimeOut). A
      // transaction still running (its stop under way) keeps its phase.
      if (!mayStart(state)) return { state, effects: [] };
      return { state: { ...state, phase: { kind: 'waiting', idTag, untilMs, reservationId, chargingProfile } }, effects: [] };
    }
    case 'waitTaken':
      if (phase.kind !== 'waiting') return { state, effects: [] };
      return { state: { ...state, phase: { kind: 'idle' } }, effects: [] };
    case 'startBegun':
      if (!mayStart(state)) return { state, effects: [] };
      return { state: { ...state, phase: { kind: 'starting', idTag: event.idTag, afterEnded: phase.kind === 'ended' } }, effects: [] };
    case 'startAborted':
      if (phase.kind !== 'starting') return { state, effects: [] };
      return { state: { ...state, phase: phase.afterEnded ? { kind: 'ended' } : { kind: 'idle' } }, effects: [] };
    case 'started':
      return { state: { ...state, phase: { kind: 'running', tx: event.tx } }, effects: [] };
    case 'stopped':
      if (phase.kind !== 'running') return { state, effects: [] };
      return { state: { ...state, phase: state.plugged ? { kind: 'ended' } : { kind: 'idle' } }, effects: [] };
    case 'rebooted':
      // OCPP 1.6 §5.14: after a Reset the Charge Point restarts; as at any boot, a car still plugged
      // in counts once the new Boot is Accepted or the backend is unreachable (CONTRACT §5; the
      // reset's own reconnect counts as unreachable), so a fixed idTag charges on. Its
      // Finishing and an authorisation waiting for a car do not survive a restart. A transaction
      // that runs or starts (begun after the reset's stop) keeps its phase.
      if (phase.kind === 'running' || phase.kind === 'starting') return { state: { ...state, ready: false }, effects: [] };
      return { state: { ...state, ready: false, phase: { kind: 'idle' } }, effects: [{ type: 'changed' }] };
  }
}

import type { Clock, TimerHandle } from '../hal/clock.js';

/** The verdict on a reply: the typed result, or the error the request fails with. */
export type ReplyVerdict<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };

/** One request: how it goes out and how its reply is judged. */
export interface RequestSpec<Id, T> {
  /** What it is, for the errors (an OCPP action, a charging-port request). */
  readonly label: string;
  /** Sends the request under `id`; a throw fails the request with it. */
  send(id: Id): void;
  /** Judges the reply: a request resolves only with a reply that passes. */
  check(reply: unknown): ReplyVerdict<T>;
  /** The error when no reply comes within the timeout. */
  timedOut(): Error;
}

export interface PendingRequestsOptions<Id> {
  readonly clock: Clock;
  /** How long a request waits for its reply. */
  readonly timeoutMs: number;
  /** Requests waiting for their reply at most: one more is refused at once rather than queued without end. */
  readonly maxPending: number;
  /** The error for a request refused because `maxPending` wait already. */
  readonly full: (label: string) => Error;
  /** A fresh id (unique among those pending). */
  readonly nextId: () => Id;
}

interface Waiter {
  readonly label: string;
  readonly timer: TimerHandle;
  reply(reply: unknown): void;
  fail(error: Error): void;
}

/**
 * Requests over a message channel waiting for their replies: each gets an id, a timeout on the
 * injected clock and a checked reply; the number waiting is bounded, and all fail when the
 * channel closes. The OCPP RPC (`ocpp/rpc.ts`, one CALL outstanding) and the charging port's
 * proxy over a MessagePort (`charging/port-proxy.ts`) share it.
 */
export class PendingRequests<Id> {
  readonly #o: PendingRequestsOptions<Id>;
  readonly #waiting = new Map<Id, Waiter>();

  constructor(options: PendingRequestsOptions<Id>) {
    this.#o = options;
  }

  /** How many wait for their reply. */
  get size(): number {
    return this.#waiting.size;
  }

  /** What the request waiting under `id` is (undefined: none waits). */
  label(id: Id): string | undefined {
    return this.#waiting.get(id)?.label;
  }

  /** Sends a request; resolves with its checked reply, or fails (refused when full, timed out, a reply refused, failed, closed). */
  request<T>(spec: RequestSpec<Id, T>): Promise<T> {
    const { clock, timeoutMs, maxPending, full, nextId } = this.#o;
    if (this.#waiting.size >= maxPending) return Promise.reject(full(spec.label));
    const id = nextId();
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimeout(() => this.fail(id, spec.timedOut()), timeoutMs);
      const reply = (value: unknown): void => {
        const verdict = spec.check(value);
        if (verdict.ok) resolve(verdict.value);
        else reject(verdict.error);
      };
      this.#waiting.set(id, { label: spec.label, timer, reply, fail: reject });
      try {
        spec.send(id);
      } catch (err) {
        this.fail(id, err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** The reply to `id`: the request resolves with it if its check passes, else fails. False when no request waits for `id`. */
  reply(id: Id, value: unknown): boolean {
    const waiter = this.#take(id);
    waiter?.reply(value);
    return waiter !== undefined;
  }

  /** The request `id` fails with `error`. False when no request waits for `id`. */
  fail(id: Id, error: Error): boolean {
    const waiter = this.#take(id);
    waiter?.fail(error);
    return waiter !== undefined;
  }

  /** The channel closed: every request waiting fails with `error`. */
  failAll(error: Error): void {
    for (const id of [...this.#waiting.keys()]) this.fail(id, error);
  }

  #take(id: Id): Waiter | undefined {
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) return undefined;
    this.#waiting.delete(id);
    this.#o.clock.clearTimeout(waiter.timer);
    return waiter;
  }
}

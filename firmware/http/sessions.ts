import { randomBytes } from 'node:crypto';
import type { Clock } from '../../hal/clock.js';

export const SESSION_COOKIE = 'wallbox_session';
/** A session ends after this long without a request, and after SESSION_MAX_MS in any case. */
export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_MAX_MS = 12 * 3600_000;
/** More sessions than this (many phones and laptops) push out the least recently used. */
const MAX_SESSIONS = 32;

interface Session {
  readonly createdMs: number;
  lastSeenMs: number;
}

/**
 * Logged-in browsers: a random token (256 bits) in an HttpOnly, SameSite=Strict cookie; the server
 * keeps them in memory, so a logout or a restart ends them for good.
 */
export class Sessions {
  readonly #clock: Clock;
  readonly #sessions = new Map<string, Session>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  create(): string {
    this.#expire();
    if (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = [...this.#sessions.entries()].sort((a, b) => a[1].lastSeenMs - b[1].lastSeenMs)[0];
      if (oldest) this.#sessions.delete(oldest[0]);
    }
    const token = randomBytes(32).toString('base64url');
    const now = this.#clock.now();
    this.#sessions.set(token, { createdMs: now, lastSeenMs: now });
    return token;
  }

  /** Whether `token` is a live session; a request with it counts as activity. */
  touch(token: string | null): boolean {
    if (token === null) return false;
    this.#expire();
    const session = this.#sessions.get(token);
    if (!session) return false;
    session.lastSeenMs = this.#clock.now();
    return true;
  }

  /** Whether `token` is a live session, without counting as activity (the live stream's check). */
  valid(token: string | null): boolean {
    if (token === null) return false;
    this.#expire();
    return this.#sessions.has(token);
  }

  end(token: string | null): void {
    if (token !== null) this.#sessions.delete(token);
  }

  /** A new password ends every session but `keep`. */
  endAllBut(keep: string | null): void {
    for (const token of [...this.#sessions.keys()]) if (token !== keep) this.#sessions.delete(token);
  }

  #expire(): void {
    const now = this.#clock.now();
    for (const [token, s] of this.#sessions)
      if (now - s.lastSeenMs > SESSION_IDLE_MS || now - s.createdMs > SESSION_MAX_MS) this.#sessions.delete(token);
  }
}

/** The Set-Cookie value that gives `token` to the browser (no Secure: the box serves plain HTTP on the LAN). */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MAX_MS / 1000}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

/** The session token in a Cookie header, or null. */
export function sessionToken(cookieHeader: string | undefined): string | null {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=') || null;
  }
  return null;
}

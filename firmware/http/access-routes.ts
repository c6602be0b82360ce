import { randomInt } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Logger } from '../log.js';
import type { EventRing } from './events.js';
import { bodyParser, EmptyBody, HttpError, readJson } from './http-io.js';
import type { LiveStream } from './live.js';
import type { LoginLimiter } from './login-limiter.js';
import { passwordProblem, type PasswordFile } from './password.js';
import type { Handler, Reply, RouteTable } from './routes.js';
import { clearedSessionCookie, sessionCookie, sessionToken, type Sessions } from './sessions.js';

const parseLogin = bodyParser(Type.Object({ password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false }));
const parseSetup = bodyParser(
  Type.Object({ setupCode: Type.String({ maxLength: 64 }), password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false }),
);
const parseNewPassword = bodyParser(
  Type.Object({ current: Type.String({ maxLength: 1024 }), password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false }),
);
const parseEmpty = bodyParser(EmptyBody);

/** A one-time code of 10 digits in groups, printed in the log: only someone who can read the box's log may set the first password. */
export function newSetupCode(): string {
  return Array.from({ length: 2 }, () => String(randomInt(0, 100_000)).padStart(5, '0')).join('-');
}

export interface AccessDeps {
  readonly sessions: Sessions;
  readonly limiter: LoginLimiter;
  readonly password: PasswordFile;
  readonly events: EventRing;
  readonly log: Logger;
  readonly live: LiveStream;
  /** The first-start setup code while no password is set; null once one is. */
  readonly setup: { code: string | null };
}

/** Login, logout, first-start setup and password change: open without a session (logout and password check it themselves). */
export function accessRoutes(d: AccessDeps): RouteTable {
  const limited = (retry: number): HttpError =>
    new HttpError(429, `too many failed attempts; try again in ${retry} s`, { 'retry-after': String(retry) });
  const login = (event: string, address: string): Reply => {
    const token = d.sessions.create();
    d.limiter.succeeded(address);
    d.events.add('access', `${event} from ${address}`);
    d.log.info(event, { address });
    return { body: { loggedIn: true }, headers: { 'set-cookie': sessionCookie(token) } };
  };
  return new Map<string, Partial<Record<string, Handler>>>([
    [
      '/api/auth',
      {
        GET: async ({ req }) => {
          const passwordSet = await d.password.isSet();
          return { body: { passwordSet, loggedIn: d.sessions.valid(sessionToken(req.headers.cookie)) } };
        },
      },
    ],
    [
      '/api/login',
      {
        POST: async ({ req, address }) => {
          const retry = d.limiter.retryAfterS(address);
          if (retry > 0) throw limited(retry);
          const { password } = parseLogin(await readJson(req));
          if (!(await d.password.verify(password))) {
            d.limiter.failed(address);
            d.events.add('access', `failed login from ${address}`);
            d.log.warn('failed login on the web interface', { address });
            const wait = d.limiter.retryAfterS(address);
            if (wait > 0) throw limited(wait);
            throw new HttpError(401, (await d.password.isSet()) ? 'wrong password' : 'no password set yet: use the setup code');
          }
          return login('login', address);
        },
      },
    ],
    [
      '/api/setup',
      {
        POST: async ({ req, address }) => {
          const retry = d.limiter.retryAfterS(address);
          if (retry > 0) throw limited(retry);
          const { setupCode, password } = parseSetup(await readJson(req));
          if (await d.password.isSet()) throw new HttpError(409, 'a password is set already: log in');
          if (d.setup.code === null || setupCode.trim() !== d.setup.code) {
            d.limiter.failed(address);
            d.log.warn('wrong setup code on the web interface', { address });
            throw new HttpError(403, 'setupCode: wrong code (it is in the firmware log, "web interface has no password yet")');
          }
          const problem = passwordProblem(password);
          if (problem !== null) throw new HttpError(400, `password: ${problem}`);
          await d.password.set(password);
          d.setup.code = null;
          return login('web password set with the setup code', address);
        },
      },
    ],
    [
      '/api/logout',
      {
        POST: async ({ req, res, address }) => {
          parseEmpty(await readJson(req));
          const token = sessionToken(req.headers.cookie);
          if (d.sessions.valid(token)) d.events.add('access', `logout from ${address}`);
          d.sessions.end(token);
          d.live.prune((t) => d.sessions.valid(t));
          res.setHeader('set-cookie', clearedSessionCookie());
          return {};
        },
      },
    ],
    [
      '/api/password',
      {
        POST: async ({ req, address }) => {
          const token = sessionToken(req.headers.cookie);
          if (!d.sessions.touch(token)) throw new HttpError(401, 'not logged in');
          const retry = d.limiter.retryAfterS(address);
          if (retry > 0) throw limited(retry);
          const { current, password } = parseNewPassword(await readJson(req));
          if (!(await d.password.verify(current))) {
            d.limiter.failed(address);
            throw new HttpError(403, 'current: wrong password');
          }
          const problem = passwordProblem(password);
          if (problem !== null) throw new HttpError(400, `password: ${problem}`);
          await d.password.set(password);
          d.sessions.endAllBut(token);
          d.events.add('access', `web password changed from ${address}`);
          d.log.info('web password changed', { address });
          return {};
        },
      },
    ],
  ]);
}

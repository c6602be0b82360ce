import { writeFileSync } from 'node:fs';
import t from 'tap';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { FREE_ATTEMPTS, LoginLimiter } from '../../firmware/http/login-limiter.js';
import { SESSION_IDLE_MS, SESSION_MAX_MS, Sessions, sessionToken } from '../../firmware/http/sessions.js';
import { PasswordFile } from '../../firmware/http/password.js';

/** The access rules on a simulated clock: the login backoff and the session lifetimes. */

t.test('login limiter: free attempts, then a wait that doubles up to 15 min, per address; a success clears it', async (t) => {
  const clock = new SimulatedClock({ startMs: 1_000_000 });
  const limiter = new LoginLimiter(clock);
  for (let i = 1; i < FREE_ATTEMPTS; i++) limiter.failed('10.0.0.2');
  t.equal(limiter.retryAfterS('10.0.0.2'), 0, `${FREE_ATTEMPTS - 1} failures cost nothing`);
  const waits: number[] = [];
  for (let i = 0; i < 12; i++) {
    limiter.failed('10.0.0.2');
    waits.push(limiter.retryAfterS('10.0.0.2'));
  }
  t.same(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
  t.equal(limiter.retryAfterS('10.0.0.3'), 0, 'another address is not affected');
  clock.advance(899_000);
  t.equal(limiter.retryAfterS('10.0.0.2'), 1);
  clock.advance(1000);
  t.equal(limiter.retryAfterS('10.0.0.2'), 0);
  limiter.succeeded('10.0.0.2');
  limiter.failed('10.0.0.2');
  t.equal(limiter.retryAfterS('10.0.0.2'), 0, 'counting starts again after a success');
});

t.test('sessions: idle timeout, absolute lifetime, logout, cookie parsing', async (t) => {
  const clock = new SimulatedClock({ startMs: 0 });
  const sessions = new Sessions(clock);
  const a = sessions.create();
  t.match(a, /^[\w-]{43}$/);
  t.not(sessions.create(), a, 'random tokens');
  clock.advance(SESSION_IDLE_MS - 1);
  t.ok(sessions.touch(a), 'activity within the idle time');
  clock.advance(SESSION_IDLE_MS - 1);
  t.ok(sessions.valid(a));
  clock.advance(2);
  t.notOk(sessions.valid(a), 'idle too long');

  const b = sessions.create();
  for (let ms = 0; ms < SESSION_MAX_MS; ms += SESSION_IDLE_MS / 2) {
    clock.advance(SESSION_IDLE_MS / 2);
    sessions.touch(b);
  }
  clock.advance(1);
  t.notOk(sessions.touch(b), 'no session lives longer than 12 h');

  const c = sessions.create();
  sessions.end(c);
  t.notOk(sessions.touch(c), 'logout');
  t.notOk(sessions.touch(null));
  t.equal(sessionToken('theme=dark; wallbox_session=abc-_1; x=y'), 'abc-_1');
  t.equal(sessionToken('theme=dark'), null);
  t.equal(sessionToken(undefined), null);
});

t.test('password file: verify against the scrypt hash; a damaged file counts as no password', async (t) => {
  const dir = t.testdir({});
  const file = new PasswordFile(dir);
  t.equal(await file.isSet(), false);
  t.equal(await file.verify(''), false, 'no password: nothing verifies');
  await file.set('zwölf Zeichen');
  t.equal(await file.isSet(), true);
  t.equal(await file.verify('zwölf Zeichen'), true);
  t.equal(await file.verify('zwölf zeichen'), false);
  t.equal(await file.verify('zwo\u0308lf Zeichen'), true, 'the same text in another Unicode form');
  writeFileSync(file.path, '{"algorithm":"md5"}');
  t.equal(await file.isSet(), false);
  t.equal(await file.verify('zwölf Zeichen'), false);
});

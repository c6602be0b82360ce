import t from 'tap';
import { createLogger } from '../firmware/log.js';

const capture = (level?: 'debug' | 'info' | 'warn' | 'error') => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level,
    now: () => Date.UTC(2026, 0, 1),
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { log, lines };
};

t.test('one JSON object a line: time, level, msg, then the fields; below the level nothing', async (t) => {
  const { log, lines } = capture('info');
  log.debug('not shown');
  log.info('shown', { currentA: 16 });
  log.warn('also');
  log.error('and this');
  t.same(lines, [
    { time: '2026-01-01T00:00:00.000Z', level: 'info', msg: 'shown', currentA: 16 },
    { time: '2026-01-01T00:00:00.000Z', level: 'warn', msg: 'also' },
    { time: '2026-01-01T00:00:00.000Z', level: 'error', msg: 'and this' },
  ]);
  t.same(Object.keys(lines[1] as object), ['time', 'level', 'msg'], 'time, level and msg first');
});

t.test('a child adds its fields to every line, its own child both; the parent is unchanged', async (t) => {
  const { log, lines } = capture('debug');
  const ocpp = log.child({ module: 'ocpp' });
  ocpp.child({ connector: 1 }).debug('deep', { connector: 2 });
  ocpp.info('mid');
  log.info('root');
  t.match(lines, [
    { msg: 'deep', module: 'ocpp', connector: 2 },
    { msg: 'mid', module: 'ocpp' },
    { msg: 'root', module: undefined },
  ]);
});

t.test('secrets are redacted at any depth, the key kept; errors become message and name', async (t) => {
  const { log, lines } = capture();
  log.warn('config', { ocpp: { password: 'pw', url: 'wss://x' }, headers: [{ Authorization: 'Basic eA==' }], err: new TypeError('bad') });
  t.same(lines[0], {
    time: '2026-01-01T00:00:00.000Z',
    level: 'warn',
    msg: 'config',
    ocpp: { password: '[redacted]', url: 'wss://x' },
    headers: [{ Authorization: '[redacted]' }],
    err: { message: 'bad', name: 'TypeError' },
  });
  t.notMatch(JSON.stringify(lines), /pw"|eA==/, 'no secret in the output');
});

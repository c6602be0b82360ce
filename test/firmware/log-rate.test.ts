import t from 'tap';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { createLogger } from '../../firmware/log.js';
import { LOG_BURST, LOG_PERIOD_MS, RateLimitedLog } from '../../firmware/log-rate.js';

/** The log budget for lines a peer can provoke: the first few pass, the rest are counted, the count is logged once a minute. */

function rig(): { limited: RateLimitedLog; clock: SimulatedClock; lines: Array<Record<string, unknown>> } {
  const clock = new SimulatedClock();
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({
    level: 'debug',
    now: () => clock.now(),
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { limited: new RateLimitedLog({ log, clock, about: 'OCPP peer' }), clock, lines };
}

t.test(`the first ${LOG_BURST} lines pass, the rest are counted and the count is logged once at the end of the minute`, async (t) => {
  const { limited, clock, lines } = rig();
  for (let i = 0; i < 1000; i++) {
    limited.warn('CALLRESULT for no outstanding call; ignored', { id: String(i) });
    clock.advance(10);
  }
  t.equal(lines.length, LOG_BURST, `${LOG_BURST} lines in the first 10 s`);
  clock.advance(LOG_PERIOD_MS - 10_000 - 1);
  t.equal(lines.length, LOG_BURST, 'no count before the minute is over');
  clock.advance(1);
  t.equal(lines.length, LOG_BURST + 1);
  t.match(lines.at(-1), { level: 'warn', msg: 'log lines dropped', about: 'OCPP peer', dropped: 1000 - LOG_BURST, periodS: 60 });
  clock.advance(10 * LOG_PERIOD_MS);
  t.equal(lines.length, LOG_BURST + 1, 'nothing dropped since: no more count lines, no timer left');
});

t.test('a flood that goes on: at most the burst and one count line per minute', async (t) => {
  const { limited, clock, lines } = rig();
  for (let second = 0; second < 600; second++) {
    for (let i = 0; i < 100; i++) limited.warn('OCPP frame is not JSON; ignored');
    clock.advance(1000);
  }
  const counts = lines.filter((l) => l['msg'] === 'log lines dropped');
  t.equal(counts.length, 10, 'one count line per minute for 10 minutes');
  t.equal(lines.length - counts.length, 10 * LOG_BURST, `${LOG_BURST} lines per minute`);
  t.equal(counts.reduce((sum, l) => sum + (l['dropped'] as number), 0) + 10 * LOG_BURST, 60_000, 'every line is either logged or counted');
});

t.test('under the burst nothing is dropped ; close() logs what is pending', async (t) => {
  const { limited, clock, lines } = rig();
  for (let i = 0; i < LOG_BURST; i++) limited.info('line');
  t.equal(lines.length, LOG_BURST);
  clock.advance(2 * LOG_PERIOD_MS);
  t.equal(lines.length, LOG_BURST, 'no count line when nothing was dropped');
  for (let i = 0; i <= LOG_BURST; i++) limited.debug('line');
  t.equal(lines.length, 2 * LOG_BURST, 'a new minute, a new burst');
  limited.close();
  t.match(lines.at(-1), { msg: 'log lines dropped', dropped: 1 });
});

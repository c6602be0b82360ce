import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { boxRigFor } from '../helpers/box-rig.js';
import { runTool } from '../helpers/firmware-process.js';
import { HTTP_ON_ANY_PORT, setUpAndLogIn } from '../helpers/web-client.js';

/**
 * The grid operator's contact (§14a EnWG) on the simulated board, the whole box in-process on the
 * simulated clock (box-rig.ts): charging at 16 A on three phases, the contact closes → 6.0 A
 * within 1 s, opens → 16 A within 1 s, measured in simulated time at every control pass; the
 * activation in the status API, the events, the JSON-lines export and the installer's tool (a
 * process: `npm run grid-log` reads dataDir after the box stopped).
 */

t.test(
  'sim board: 16 A → 6.0 A within 1 s of the contact closing, 16 A again within 1 s of it opening; the activation kept and exported',
  async (t) => {
    const box = await boxRigFor(t, { ...HTTP_ON_ANY_PORT, grid: {}, modbus: { bootCurrentA: 16 } });
    const web = await setUpAndLogIn(box, 'correct horse battery');
    const offers: string[] = [];
    const note = (when: string, s: Record<string, any>) =>
      offers.push(
        `${when}: pilot ${s['pilot']} ${Number(s['pwmDutyPct']).toFixed(2)} % = ${s['offeredCurrentA']} A on ${s['phases']} phases, gridControl ${s['inputs']['gridControl']}`,
      );

    t.same((await box.sim())['inputs'], { gridControl: false }, 'GET /sim shows the input');
    await box.simPost('/sim/ev', { state: 'C' });
    await box.pace(() => {
      const s = box.snapshot();
      return s['relayClosed'] === true && s['offeredCurrentA'] === 16 && s['phases'] === 3;
    }, 10_000);
    note('before', box.snapshot());
    t.equal((await web.call('GET', '/api/status')).body.gridLimited, false);

    const closed = await box.simPost('/sim/inputs', { gridControl: true });
    t.equal(closed.status, 200);
    t.same(((await closed.json()) as Record<string, any>)['inputs'], { gridControl: true });
    const applyMs = await box.pace(() => box.snapshot()['offeredCurrentA'] === 6, 5_000);
    t.ok(applyMs < 1000, `6.0 A on the pilot ${applyMs} ms after the contact closed`);
    const during = box.snapshot();
    note('during', during);
    t.equal(during['relayClosed'], true, 'charging goes on');
    const status = (await web.call('GET', '/api/status')).body;
    t.equal(status.gridLimited, true);
    t.equal(status.charging.limitedBy, 'grid');
    t.match(status.gridActivation, { start: String, end: null, limitW: 4200, limitsA: [6], endedBy: null });

    await box.advance(2_000); // the activation lasts a while (its log line measures it)
    const opened = await box.simPost('/sim/inputs', { gridControl: false });
    t.equal(opened.status, 200);
    const releaseMs = await box.pace(() => box.snapshot()['offeredCurrentA'] === 16, 5_000);
    t.ok(releaseMs < 1000, `16 A on the pilot ${releaseMs} ms after the contact opened`);
    note('after', box.snapshot());
    const after = (await web.call('GET', '/api/status')).body;
    t.equal(after.gridLimited, false);
    t.equal(after.gridActivation, null);

    for (const bad of [{}, { gridControl: 1 }, { gridControl: true, extra: 1 }]) {
      const reply = await box.simPost('/sim/inputs', bad);
      t.equal(reply.status, 400, `${JSON.stringify(bad)}: 400`);
    }
    t.equal((await box.sim())['inputs']['gridControl'], false, 'a bad body changed nothing');

    const events = (await web.call('GET', '/api/events')).body as Array<{ kind: string; text: string }>;
    t.same(
      events.filter((e) => e.kind === 'grid').map((e) => e.text),
      ['grid operator limit active (§14a EnWG): 4200 W = 6.0 A', 'grid operator limit ended'],
      'GET /api/events',
    );

    const exported = await fetch(`http://127.0.0.1:${box.httpPort}/api/grid/activations`, { headers: { cookie: web.cookie ?? '' } });
    t.equal(exported.status, 200);
    t.match(exported.headers.get('content-type'), /^application\/x-ndjson/);
    const lines = (await exported.text()).trimEnd().split('\n');
    t.equal(lines.length, 1, 'one activation');
    const activation = JSON.parse(lines[0] ?? '') as Record<string, any>;
    t.match(activation, { limitW: 4200, limitsA: [6], endedBy: 'signal' });
    const lastedMs = Date.parse(activation['end']) - Date.parse(activation['start']);
    t.ok(lastedMs > 0 && lastedMs < 10_000, `lasted ${lastedMs} ms`);
    t.equal((await fetch(`http://127.0.0.1:${box.httpPort}/api/grid/activations`)).status, 401, 'not without a session');

    await box.close();
    t.match(JSON.parse(readFileSync(join(box.fileConfig.dataDir, 'state.json'), 'utf8')), { cleanStop: true }, 'clean stop');
    const tool = await runTool(['--config', box.configFile], t.testdirName, { tool: 'grid-log' });
    t.equal(tool.code, 0);
    t.equal(tool.stdout, `${lines[0]}\n`, 'npm run grid-log prints the same JSON lines from dataDir');
    t.comment(`offer on the pilot:\n${offers.join('\n')}`);
    t.comment(`activation log (JSON lines):\n${lines.join('\n')}`);
  },
);

t.test(
  'sim board, phase switching and a one-phase car: at most 6.0 A within 1 s, then one phase at 18.2 A; three phases again after the signal',
  async (t) => {
    const box = await boxRigFor(t, {
      ...HTTP_ON_ANY_PORT,
      grid: {},
      evse: { minOffS: 1, phaseSwitching: { enabled: true, minIntervalS: 2, pauseS: 1 } },
    });
    const web = await setUpAndLogIn(box, 'correct horse battery');
    await box.simPost('/sim/ev', { state: 'C', phases: 1, maxCurrentA: 32 });
    await box.pace(() => box.snapshot()['relayClosed'] === true && box.snapshot()['meter']['currentsA'][0] === 32, 10_000);
    await box.simPost('/sim/inputs', { gridControl: true });
    const reactMs = await box.pace(() => box.snapshot()['offeredCurrentA'] <= 6, 5_000);
    t.ok(reactMs < 1000, `${reactMs} ms after the contact closed the pilot offers at most 6.0 A`);
    const seen = new Set<string>();
    let aboveOnThree = 0;
    // Every simulated step (one control pass) is looked at, not a sample of them.
    await box.pace(() => {
      const s = box.snapshot();
      seen.add(`${s['pilot']} ${s['offeredCurrentA']} A, relay ${s['phaseRelay']}p`);
      if (s['phaseRelay'] === 3 && s['offeredCurrentA'] > 6) aboveOnThree++;
      return s['phaseRelay'] === 1 && s['relayClosed'] === true && s['meter']['currentsA'][0] === 18.2;
    }, 15_000);
    t.equal(aboveOnThree, 0, 'never more than 6.0 A while three phases are energised (the PWM stops at once for the switch)');
    t.ok(seen.has('E 0 A, relay 1p'), 'the switch with the pilot in state E');
    t.comment(`seen on the way: ${[...seen].join(' → ')}`);
    const status = (await web.call('GET', '/api/status')).body;
    t.match(status, {
      gridLimited: true,
      charging: { limitedBy: 'grid', phases: 1, offeredA: 18.2 },
      gridActivation: { limitsA: [6, 18.2] },
    });
    await box.simPost('/sim/inputs', { gridControl: false });
    await box.pace(() => {
      const s = box.snapshot();
      return s['phaseRelay'] === 3 && s['relayClosed'] === true && s['offeredCurrentA'] === 32;
    }, 15_000);
    t.pass('three phases and 32 A again after the signal');
    const exported = await fetch(`http://127.0.0.1:${box.httpPort}/api/grid/activations`, { headers: { cookie: web.cookie ?? '' } });
    const line = (await exported.text()).trim();
    t.match(JSON.parse(line), { limitW: 4200, limitsA: [6, 18.2], endedBy: 'signal' });
    t.comment(`activation log: ${line}`);
  },
);

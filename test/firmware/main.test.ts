import t from 'tap';
import { storedJson } from '../helpers/damage.js';
import { join } from 'node:path';
import { pollUntil, runFirmware, runTool, startFirmware } from '../helpers/firmware-process.js';

/** The built bundle as an installer runs it: config errors, the simulator API, a clean stop. */

// The cases run side by side: each runs its own firmware in its own folder, mostly waiting for it.
t.jobs = 4;

const badConfigs: Array<[string, unknown, string]> = [
  ['an unknown key', { evse: { maxCurrentA: 16, colour: 'red' } }, 'evse.colour'],
  ['an unknown top-level key', { modbsu: {} }, 'modbsu'],
  ['a wrong type', { evse: { maxCurrentA: '16' } }, 'evse.maxCurrentA'],
  ['an out-of-range current', { evse: { maxCurrentA: 100 } }, 'evse.maxCurrentA'],
  ['a current below 6 A', { evse: { maxCurrentA: 4 } }, 'evse.maxCurrentA'],
  ['a bad phase count', { evse: { phases: 2 } }, 'evse.phases'],
  ['an ocpp section without url', { ocpp: { chargeBoxId: 'box1' } }, 'ocpp.url'],
  ['an unknown board', { board: 'nosuchboard' }, 'board'],
];

for (const [what, config, key] of badConfigs) {
  t.test(`a config with ${what} exits 2 naming ${key}`, async (t) => {
    const dir = t.testdir({ 'config.json': JSON.stringify(config) });
    const { code, stderr } = await runFirmware(['--config', join(dir, 'config.json')], dir);
    t.equal(code, 2);
    const lines = stderr.trim().split('\n');
    t.equal(lines.length, 1, 'one line on stderr');
    t.match(lines[0], new RegExp(`^config: ${key.replace('.', '\\.')}: `), stderr);
  });
}

t.test('a config file that is not JSON, or missing, exits 2', async (t) => {
  const dir = t.testdir({ 'config.json': '{ "evse": ' });
  const broken = await runFirmware(['--config', join(dir, 'config.json')], dir);
  t.equal(broken.code, 2);
  t.match(broken.stderr, /not valid JSON/);
  const missing = await runFirmware(['--config', join(dir, 'nope.json')], dir);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read/);
});

t.test('an unknown command-line option exits 2', async (t) => {
  const dir = t.testdir({});
  const { code, stderr } = await runFirmware(['--frobnicate'], dir);
  t.equal(code, 2);
  t.match(stderr, /frobnicate/);
});

t.test('on the sim board a car in C gets charged; SIGTERM stops cleanly with exit 0', async (t) => {
  const dir = t.testdir({});
  const fw = startFirmware(dir, { dataDir: join(dir, 'data'), sim: { controlPort: 0 }, http: null, modbus: { tcp: null } });
  t.teardown(() => fw.kill());
  const listening = await fw.waitForLog((l) => l['msg'] === 'simulator control API listening');
  const base = `http://127.0.0.1:${String(listening['port'])}`;
  const get = async () => (await (await fetch(`${base}/sim`)).json()) as Record<string, any>;
  const post = async (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body) });

  const idle = await pollUntil(get, (s) => s['cp'] === 'A');
  t.match(idle, {
    cp: 'A',
    pilot: 'x1',
    pwmDutyPct: 100,
    offeredCurrentA: 0,
    relayClosed: false,
    contactorMirror: false,
    phaseRelay: 3,
    phases: 3,
    locked: false,
    ppCurrentA: 32,
  });
  t.match(idle['ev'], { state: 'A', maxCurrentA: 32, phases: 3 });
  t.match(idle['meter'], { energyWh: 0, powerW: 0, currentsA: [0, 0, 0] });
  t.same(idle['faults'], []);

  const bad = await post('/sim/ev', { state: 'X' });
  t.equal(bad.status, 400, 'a bad body gets 400');
  t.match(((await bad.json()) as { error: string }).error, /state/);
  t.equal((await post('/sim/fault', { kind: 'lightning' })).status, 400);
  t.equal((await post('/sim/ev', { state: 'C', wheels: 4 })).status, 400, 'unknown fields are refused');

  t.equal((await post('/sim/ev', { state: 'C', maxCurrentA: 16 })).status, 200);
  const charging = await pollUntil(get, (s) => s['relayClosed'] === true && s['meter'].energyWh > 0);
  t.match(charging, { cp: 'C', pilot: 'pwm', offeredCurrentA: 32, contactorMirror: true, locked: true });
  t.ok(Math.abs(charging['pwmDutyPct'] - 32 / 0.6) < 1e-9, 'duty for 32 A');
  t.same(charging['meter'].currentsA, [16, 16, 16], 'the car draws its own maximum');
  t.equal(charging['meter'].powerW, 16 * 230 * 3);
  const later = await pollUntil(get, (s) => s['meter'].energyWh > charging['meter'].energyWh);
  t.ok(later['meter'].energyWh > charging['meter'].energyWh, 'the meter counts');

  t.equal(await fw.stop(), 0, 'exit code 0 after SIGTERM');
  const state = storedJson(join(dir, 'data', 'state.json')) as Record<string, unknown>;
  t.equal(state['cleanStop'], true, 'state saved with the clean-stop marker');
  t.ok(
    fw.logs.some((l) => l['msg'] === 'contactor opened'),
    'the contactor was opened before the exit',
  );
  t.ok(
    fw.logs.every((l) => typeof l['level'] === 'string' && typeof l['time'] === 'string'),
    'every log line is JSON with a level',
  );
});

t.test('a welded contactor stays latched across a restart until the installer clears it with the faults tool', async (t) => {
  const dir = t.testdir({});
  const config = { dataDir: join(dir, 'data'), sim: { controlPort: 0 }, http: null, modbus: { tcp: null } };
  const run = async (until: (fw: ReturnType<typeof startFirmware>, base: string) => Promise<void>) => {
    const fw = startFirmware(dir, config);
    t.teardown(() => fw.kill());
    const listening = await fw.waitForLog((l) => l['msg'] === 'simulator control API listening');
    await until(fw, `http://127.0.0.1:${String(listening['port'])}`);
    t.equal(await fw.stop(), 0);
    return fw;
  };
  const post = (base: string, path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const get = async (base: string) => (await (await fetch(`${base}/sim`)).json()) as Record<string, any>;

  await run(async (fw, base) => {
    await post(base, '/sim/fault', { kind: 'relayWeld' });
    const fault = await fw.waitForLog((l) => l['msg'] === 'fault');
    t.equal(fault['kind'], 'contactorWelded');
    t.equal(fault['level'], 'warn');
  });

  const listed = await runTool(['--config', join(dir, 'config.json'), 'list'], dir);
  t.match(listed.stdout, /"latched":true,"kind":"contactorWelded"/);

  await run(async (fw, base) => {
    await post(base, '/sim/ev', { state: 'C' });
    await fw.waitForLog((l) => l['msg'] === 'latched faults in force');
    await pollUntil(
      () => get(base),
      (s) => s['cp'] === 'B',
      5000,
    );
    // Nothing to await for "never closes": give the car 10 times its C debounce to be seen.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sim = await get(base);
    t.equal(sim['relayClosed'], false, 'after the restart a plug-in does not close the contactor');
    t.equal(sim['pilot'], 'x1', 'and no PWM is offered');
    t.notOk(fw.logs.some((l) => l['msg'] === 'contactor closed'));
  });

  const cleared = await runTool(['--config', join(dir, 'config.json'), 'clear'], dir);
  t.equal(cleared.code, 0);
  t.same(JSON.parse(cleared.stdout), { cleared: ['contactorWelded'] });

  await run(async (_fw, base) => {
    await post(base, '/sim/ev', { state: 'C' });
    await pollUntil(
      () => get(base),
      (s) => s['relayClosed'] === true,
      5000,
    );
    t.pass('after the clear the box charges again');
  });
});

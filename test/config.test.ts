import t from 'tap';
import { storedJson } from './helpers/damage.js';

const tap = t;
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, parseConfig, type Config } from '../firmware/config.js';
import { ConfigOverlay } from '../firmware/config-overlay.js';
import { silentLogger } from '../firmware/log.js';

/** The value at a dotted key, read independently of the code under test. */
function at(value: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], value);
}

/** The ConfigError that parseConfig throws for `raw` (fails the test when it throws none or another error). */
function configErrorOf(raw: unknown): ConfigError | undefined {
  try {
    parseConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  return undefined;
}

/** Asserts that `raw` is refused with a ConfigError naming exactly `key`. */
function refusesKey(t: Pick<typeof tap, 'ok' | 'equal' | 'match'>, raw: unknown, key: string, reason?: RegExp): void {
  const err = configErrorOf(raw);
  const what = JSON.stringify(raw);
  if (!t.ok(err, `${what} is refused with a ConfigError`)) return;
  t.equal(err?.key, key, `${what} names ${key}`);
  t.match(err?.message, new RegExp(`^${key.replace(/\./g, '\\.')}: `), `${what}: the message starts with the key`);
  if (reason) t.match(err?.message, reason, `${what}: the message says why`);
}

t.test('parseConfig({}) gives every default of CONTRACT §2', async (t) => {
  const config = parseConfig({});
  const defaults: Array<[key: string, value: unknown]> = [
    ['board', 'sim'],
    ['dataDir', './data'],
    ['evse.maxCurrentA', 32],
    ['evse.phases', 3],
    ['evse.voltageV', 230],
    ['evse.cable', 'socket'],
    ['evse.ventilation', false],
    ['evse.minOffS', 5],
    ['evse.phaseSwitching.enabled', false],
    ['evse.phaseSwitching.minIntervalS', 300],
    ['evse.phaseSwitching.pauseS', 10],
    ['modbus.unitId', 1],
    ['modbus.tcp.host', '127.0.0.1'],
    ['modbus.tcp.port', 4701],
    ['modbus.rtu', null],
    ['modbus.timeoutS', 0],
    ['modbus.failsafeCurrentA', 6],
    ['ocpp', null],
    ['mqtt', null],
    ['http.host', '127.0.0.1'],
    ['http.port', 8080],
    ['sim.controlPort', 4780],
    ['sim.signedMeter', false],
    ['sim.clockSynced', true],
  ];
  for (const [key, value] of defaults) t.strictSame(at(config, key), value, `${key} defaults to ${JSON.stringify(value)}`);
});

t.test('parseConfig({}) gives exactly the default object, nothing more', async (t) => {
  t.strictSame(parseConfig({}), {
    board: 'sim',
    dataDir: './data',
    evse: {
      maxCurrentA: 32,
      phases: 3,
      voltageV: 230,
      cable: 'socket',
      ventilation: false,
      minOffS: 5,
      phaseSwitching: { enabled: false, minIntervalS: 300, pauseS: 10 },
    },
    modbus: { unitId: 1, tcp: { host: '127.0.0.1', port: 4701 }, rtu: null, bootCurrentA: null, timeoutS: 0, failsafeCurrentA: 6 },
    ocpp: null,
    http: { host: '127.0.0.1', port: 8080 },
    mqtt: null,
    grid: null,
    sim: { controlPort: 4780, signedMeter: false, clockSynced: true },
  });
});

t.test('parseConfig keeps given values and fills the rest of a partly given section', async (t) => {
  const config = parseConfig({ evse: { maxCurrentA: 16, phases: 1 }, modbus: { tcp: { port: 5020 } }, sim: {} });
  t.equal(config.evse.maxCurrentA, 16);
  t.equal(config.evse.phases, 1);
  t.equal(config.evse.voltageV, 230);
  t.strictSame(config.evse.phaseSwitching, { enabled: false, minIntervalS: 300, pauseS: 10 });
  t.strictSame(config.modbus.tcp, { host: '127.0.0.1', port: 5020 });
  t.equal(config.sim.controlPort, 4780);
});

t.test('parseConfig: null turns modbus.tcp, http and ocpp off', async (t) => {
  const config = parseConfig({ modbus: { tcp: null }, http: null, ocpp: null });
  t.equal(config.modbus.tcp, null);
  t.equal(config.http, null);
  t.equal(config.ocpp, null);
});

t.test('parseConfig: a given modbus.rtu gets 9600 8N1', async (t) => {
  const config = parseConfig({ modbus: { rtu: { path: '/dev/ttyS1' } } });
  t.strictSame(config.modbus.rtu, { path: '/dev/ttyS1', baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 });
});

t.test('parseConfig does not change its input', async (t) => {
  const raw = { evse: { maxCurrentA: 20 } };
  parseConfig(raw);
  t.strictSame(raw, { evse: { maxCurrentA: 20 } });
});

t.test('a valid ocpp object gets its defaults', async (t) => {
  const config = parseConfig({ ocpp: { url: 'wss://csms.example/ocpp', chargeBoxId: 'WB-0001' } });
  t.strictSame(config.ocpp, {
    url: 'wss://csms.example/ocpp',
    chargeBoxId: 'WB-0001',
    password: '',
    connectorId: 1,
    fixedIdTag: '',
    insecureTls: false,
    offlineLimitA: null,
    offlineAfterS: 300,
  });
});

t.test('a valid ocpp object keeps the values given', async (t) => {
  const ocpp = {
    url: 'ws://10.0.0.1:9000/steve/websocket/CentralSystemService',
    chargeBoxId: 'box',
    password: 'secret',
    connectorId: 2,
    fixedIdTag: 'TAG1',
    caFile: '/etc/ca.pem',
    certFile: '/etc/cert.pem',
    keyFile: '/etc/key.pem',
    insecureTls: true,
    offlineLimitA: 10,
    offlineAfterS: 60,
  };
  t.strictSame(parseConfig({ ocpp }).ocpp, ocpp);
});

t.test('unknown keys are refused, the dotted key named', async (t) => {
  const cases: Array<[raw: unknown, key: string]> = [
    [{ foo: 1 }, 'foo'],
    [{ evse: { foo: 1 } }, 'evse.foo'],
    [{ evse: { phaseSwitching: { foo: true } } }, 'evse.phaseSwitching.foo'],
    [{ modbus: { tcp: { bar: 1 } } }, 'modbus.tcp.bar'],
    [{ modbus: { tcp: { host: '0.0.0.0', port: 502, bar: 1 } } }, 'modbus.tcp.bar'],
    [{ modbus: { baz: 1 } }, 'modbus.baz'],
    [{ http: { foo: 1 } }, 'http.foo'],
    [{ sim: { foo: 1 } }, 'sim.foo'],
  ];
  for (const [raw, key] of cases) refusesKey(t, raw, key, /unknown key/);
});

t.test('unknown keys inside a given ocpp or modbus.rtu object are refused, the dotted key named', async (t) => {
  refusesKey(t, { ocpp: { url: 'ws://x/ocpp', chargeBoxId: 'box', foo: 1 } }, 'ocpp.foo', /unknown key/);
  refusesKey(t, { modbus: { rtu: { path: '/dev/ttyS1', foo: 1 } } }, 'modbus.rtu.foo', /unknown key/);
});

t.test('wrong types are refused, naming exactly that key', async (t) => {
  const cases: Array<[raw: unknown, key: string]> = [
    [{ evse: { maxCurrentA: '32' } }, 'evse.maxCurrentA'],
    [{ evse: { phases: 2 } }, 'evse.phases'],
    [{ evse: { phases: '3' } }, 'evse.phases'],
    [{ evse: { cable: 'both' } }, 'evse.cable'],
    [{ evse: { ventilation: 'yes' } }, 'evse.ventilation'],
    [{ evse: { phaseSwitching: { enabled: 1 } } }, 'evse.phaseSwitching.enabled'],
    [{ evse: 5 }, 'evse'],
    [{ modbus: { tcp: 'x' } }, 'modbus.tcp'],
    [{ modbus: { tcp: { port: 'x' } } }, 'modbus.tcp.port'],
    [{ modbus: { unitId: 1.5 } }, 'modbus.unitId'],
    [{ http: { port: '8080' } }, 'http.port'],
    [{ ocpp: 'ws://x/ocpp' }, 'ocpp'],
    [{ board: 5 }, 'board'],
  ];
  for (const [raw, key] of cases) refusesKey(t, raw, key);
});

t.test('a wrong ocpp.url is refused naming ocpp.url', async (t) => {
  refusesKey(t, { ocpp: { url: 5, chargeBoxId: 'box' } }, 'ocpp.url');
  refusesKey(t, { ocpp: { url: 'http://csms.example/ocpp', chargeBoxId: 'box' } }, 'ocpp.url');
});

t.test('a wrong value inside a given modbus.rtu names that key', async (t) => {
  refusesKey(t, { modbus: { rtu: { path: '/dev/ttyS1', baudRate: 'fast' } } }, 'modbus.rtu.baudRate');
  refusesKey(t, { modbus: { rtu: { path: '/dev/ttyS1', parity: 'mark' } } }, 'modbus.rtu.parity');
});

t.test('out-of-range values are refused, naming exactly that key', async (t) => {
  const cases: Array<[raw: unknown, key: string]> = [
    [{ evse: { maxCurrentA: 5 } }, 'evse.maxCurrentA'],
    [{ evse: { maxCurrentA: 5.99 } }, 'evse.maxCurrentA'],
    [{ evse: { maxCurrentA: 80.01 } }, 'evse.maxCurrentA'],
    [{ evse: { maxCurrentA: 81 } }, 'evse.maxCurrentA'],
    [{ modbus: { unitId: 0 } }, 'modbus.unitId'],
    [{ modbus: { unitId: 248 } }, 'modbus.unitId'],
    [{ modbus: { tcp: { port: 70000 } } }, 'modbus.tcp.port'],
  ];
  for (const [raw, key] of cases) refusesKey(t, raw, key, /must be [<>]=/);
});

t.test('the range ends are accepted', async (t) => {
  t.equal(parseConfig({ evse: { maxCurrentA: 6 } }).evse.maxCurrentA, 6);
  t.equal(parseConfig({ evse: { maxCurrentA: 80 } }).evse.maxCurrentA, 80);
  t.equal(parseConfig({ modbus: { unitId: 1 } }).modbus.unitId, 1);
  t.equal(parseConfig({ modbus: { unitId: 247 } }).modbus.unitId, 247);
});

t.test('ocpp without url names ocpp.url', async (t) => {
  refusesKey(t, { ocpp: { chargeBoxId: 'box' } }, 'ocpp.url', /required/);
});

t.test('a config that is not an object is refused', async (t) => {
  for (const raw of [[], [{}], null, 5, 'config', true, undefined]) {
    const err = configErrorOf(raw);
    t.ok(err instanceof ConfigError, `${JSON.stringify(raw)} is refused with a ConfigError`);
    t.equal(err?.key, '', `${JSON.stringify(raw)}: no key to name`);
    t.match(err?.message, /object/, `${JSON.stringify(raw)}: the message says it must be an object`);
  }
});

t.test('ConfigError carries the key and the reason', async (t) => {
  const err = configErrorOf({ evse: { foo: 1 } });
  t.equal(err?.name, 'ConfigError');
  t.equal(err?.key, 'evse.foo');
  t.equal(err?.reason, 'unknown key');
  t.equal(err?.message, 'evse.foo: unknown key');
});

// ConfigOverlay: run-time values kept in dataDir

const OVERLAY_FILE = 'config-overlay.json';

function fileConfig(dataDir: string, raw: Record<string, unknown> = {}): Config {
  return parseConfig({ ...raw, dataDir });
}

t.test('overlay: without an overlay file the file config applies unchanged', async (t) => {
  const dir = t.testdir();
  const file = fileConfig(dir, { evse: { maxCurrentA: 20 } });
  const overlay = await ConfigOverlay.load(file, silentLogger);
  t.strictSame(overlay.config, file);
});

t.test('overlay: set() applies at once, persists, and a fresh load() applies it', async (t) => {
  const dir = t.testdir();
  const file = fileConfig(dir);
  const overlay = await ConfigOverlay.load(file, silentLogger);
  const returned = await overlay.set('evse.maxCurrentA', 16);
  t.equal(returned.evse.maxCurrentA, 16, 'set() returns the new config');
  t.equal(overlay.config.evse.maxCurrentA, 16, 'config applies it at once');
  t.equal(file.evse.maxCurrentA, 32, 'the file config object is not changed');

  const stored = storedJson(join(dir, OVERLAY_FILE)) as unknown;
  t.strictSame(
    stored,
    { 'evse.maxCurrentA': { value: 16, fileValue: 32 } },
    'the overlay file holds the value and the file value it overrode',
  );

  const again = await ConfigOverlay.load(fileConfig(dir), silentLogger);
  t.equal(again.config.evse.maxCurrentA, 16, 'a fresh load applies the stored value');
  t.strictSame(again.config, { ...file, evse: { ...file.evse, maxCurrentA: 16 } }, 'and changes nothing else');
});

t.test('overlay: several keys set at run time all survive a restart', async (t) => {
  const dir = t.testdir();
  const overlay = await ConfigOverlay.load(fileConfig(dir), silentLogger);
  await overlay.set('modbus.unitId', 7);
  await overlay.set('evse.maxCurrentA', 20);
  await overlay.set('modbus.unitId', 9);
  const again = await ConfigOverlay.load(fileConfig(dir), silentLogger);
  t.equal(again.config.modbus.unitId, 9);
  t.equal(again.config.evse.maxCurrentA, 20);
});

t.test("overlay: when the file's own value for that key changes, the file wins", async (t) => {
  const dir = t.testdir();
  const overlay = await ConfigOverlay.load(fileConfig(dir, { evse: { maxCurrentA: 32 } }), silentLogger);
  await overlay.set('evse.maxCurrentA', 16);
  const changed = await ConfigOverlay.load(fileConfig(dir, { evse: { maxCurrentA: 25 } }), silentLogger);
  t.equal(changed.config.evse.maxCurrentA, 25);
});

t.test('overlay: once the file has won, changing the file back does not revive the old run-time value', async (t) => {
  const dir = t.testdir();
  const overlay = await ConfigOverlay.load(fileConfig(dir, { evse: { maxCurrentA: 32 } }), silentLogger);
  await overlay.set('evse.maxCurrentA', 16);
  const changed = await ConfigOverlay.load(fileConfig(dir, { evse: { maxCurrentA: 25 } }), silentLogger);
  t.equal(changed.config.evse.maxCurrentA, 25, 'the installer changed the file: 25 A');
  const back = await ConfigOverlay.load(fileConfig(dir, { evse: { maxCurrentA: 32 } }), silentLogger);
  t.equal(back.config.evse.maxCurrentA, 32, 'the installer changed it back: 32 A, not the stale 16 A');
});

t.test('overlay: a change of another key in the file keeps the run-time value', async (t) => {
  const dir = t.testdir();
  const overlay = await ConfigOverlay.load(fileConfig(dir), silentLogger);
  await overlay.set('evse.maxCurrentA', 16);
  const changed = await ConfigOverlay.load(fileConfig(dir, { evse: { phases: 1 } }), silentLogger);
  t.equal(changed.config.evse.maxCurrentA, 16);
  t.equal(changed.config.evse.phases, 1);
});

t.test('overlay: an invalid value on disk is ignored, the valid ones still apply', async (t) => {
  const dir = t.testdir({
    [OVERLAY_FILE]: JSON.stringify({
      'evse.maxCurrentA': { value: 500, fileValue: 32 },
      'evse.phases': { value: '3', fileValue: 3 },
      'evse.foo': { value: 1, fileValue: null },
      'modbus.unitId': { value: 9, fileValue: 1 },
    }),
  });
  const overlay = await ConfigOverlay.load(fileConfig(dir), silentLogger);
  t.equal(overlay.config.evse.maxCurrentA, 32, 'out of range: ignored');
  t.equal(overlay.config.evse.phases, 3, 'wrong type: ignored');
  t.notOk('foo' in overlay.config.evse, 'unknown key: ignored');
  t.equal(overlay.config.modbus.unitId, 9, 'the valid entry applies');
});

t.test('overlay: set() with a bad value throws ConfigError naming the key and changes nothing', async (t) => {
  const dir = t.testdir();
  const overlay = await ConfigOverlay.load(fileConfig(dir), silentLogger);
  await overlay.set('modbus.unitId', 5);
  const before = await readFile(join(dir, OVERLAY_FILE), 'utf8');
  const configBefore = overlay.config;

  const bad: Array<[key: string, value: unknown]> = [
    ['evse.maxCurrentA', 500],
    ['evse.maxCurrentA', '16'],
    ['modbus.unitId', 0],
    ['evse.foo', 1],
  ];
  for (const [key, value] of bad) {
    let err: unknown;
    try {
      await overlay.set(key, value);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ConfigError, `set(${key}, ${JSON.stringify(value)}) throws a ConfigError`);
    t.equal((err as ConfigError | undefined)?.key, key, `it names ${key}`);
  }
  t.equal(overlay.config, configBefore, 'the config in memory is unchanged');
  t.equal(await readFile(join(dir, OVERLAY_FILE), 'utf8'), before, 'the overlay file is unchanged');
  const again = await ConfigOverlay.load(fileConfig(dir), silentLogger);
  t.equal(again.config.evse.maxCurrentA, 32);
  t.equal(again.config.modbus.unitId, 5);
});

t.test('overlay: a refused first set() writes no overlay file', async (t) => {
  const dir = t.testdir();
  const overlay = await ConfigOverlay.load(fileConfig(dir), silentLogger);
  await t.rejects(overlay.set('evse.maxCurrentA', 81), ConfigError);
  await t.rejects(readFile(join(dir, OVERLAY_FILE), 'utf8'), { code: 'ENOENT' });
});

t.test('modbus.bootCurrentA takes null, 0 or 6..80 and names every allowed form otherwise', async (t) => {
  for (const ok of [null, 0, 6, 16.5, 80]) t.equal(parseConfig({ modbus: { bootCurrentA: ok } }).modbus.bootCurrentA, ok);
  for (const bad of [3, 81, 'x']) {
    const err = t.throws(() => parseConfig({ modbus: { bootCurrentA: bad } })) as ConfigError;
    t.equal(err.key, 'modbus.bootCurrentA');
    t.match(err.message, /^modbus\.bootCurrentA: must be null or /);
  }
});

const OCPP = { url: 'ws://127.0.0.1:9000/ocpp', chargeBoxId: 'box' };

t.test('ocpp.offlineLimitA takes null, 0 or 6..80 and ocpp.offlineAfterS 0..86400 s; others are refused naming the key', async (t) => {
  t.equal(parseConfig({ ocpp: OCPP }).ocpp?.offlineLimitA, null, 'no offline limit by default');
  t.equal(parseConfig({ ocpp: OCPP }).ocpp?.offlineAfterS, 300, 'after 300 s by default');
  for (const ok of [null, 0, 6, 10.5, 80]) t.equal(parseConfig({ ocpp: { ...OCPP, offlineLimitA: ok } }).ocpp?.offlineLimitA, ok);
  for (const ok of [0, 1, 86400]) t.equal(parseConfig({ ocpp: { ...OCPP, offlineAfterS: ok } }).ocpp?.offlineAfterS, ok);
  for (const bad of [3, 5.9, 81, -1, '10', true]) {
    const err = t.throws(() => parseConfig({ ocpp: { ...OCPP, offlineLimitA: bad } })) as ConfigError;
    t.equal(err.key, 'ocpp.offlineLimitA', `${JSON.stringify(bad)} names ocpp.offlineLimitA`);
    t.match(err.message, /^ocpp\.offlineLimitA: must be null or /);
  }
  for (const bad of [-1, 1.5, 86401, '300', null]) {
    const err = t.throws(() => parseConfig({ ocpp: { ...OCPP, offlineAfterS: bad } })) as ConfigError;
    t.equal(err.key, 'ocpp.offlineAfterS', `${JSON.stringify(bad)} names ocpp.offlineAfterS`);
  }
});

t.test('grid: null by default, {} gets 4200 W and "closed"; bad values are refused naming the key', async (t) => {
  t.equal(parseConfig({}).grid, null);
  t.strictSame(parseConfig({ grid: {} }).grid, { limitW: 4200, activeWhen: 'closed' });
  t.strictSame(parseConfig({ grid: { limitW: 11000, activeWhen: 'open' } }).grid, { limitW: 11000, activeWhen: 'open' });
  const cases: Array<[raw: unknown, key: string, reason: RegExp]> = [
    [{ grid: { limitW: -1 } }, 'grid.limitW', /must be >=/],
    [{ grid: { limitW: 100001 } }, 'grid.limitW', /must be <=/],
    [{ grid: { limitW: '4200' } }, 'grid.limitW', /must be number/],
    [{ grid: { activeWhen: 'high' } }, 'grid.activeWhen', /must be equal to constant/],
    [{ grid: { pin: 4 } }, 'grid.pin', /unknown key/],
    [{ grid: 'closed' }, 'grid', /must be object/],
  ];
  for (const [raw, key, reason] of cases) refusesKey(t, raw, key, reason);
});

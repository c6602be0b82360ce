import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { boxRigFor, type BoxRig } from '../helpers/box-rig.js';
import { startBoxFor, type RunningBox } from '../helpers/firmware-process.js';
import { tcpClient } from '../helpers/modbus-client.js';
import { brokerFor, publish, subscriberFor, type Broker, type Received, type Subscriber } from '../helpers/mosquitto.js';

/**
 * CONTRACT §8 against a real broker: Debian's mosquitto, with mosquitto_sub / mosquitto_pub as
 * the independent clients, and the box on the simulated board with a simulated car: in-process on
 * the simulated clock (box-rig.ts), but the built firmware as a process for the last will (it is
 * killed).
 */

const P = 'wallbox/SIM-000001';

async function boxOn(t: Test, b: Broker, extra: Record<string, any> = {}): Promise<BoxRig> {
  const { mqtt, ...rest } = extra;
  return boxRigFor(t, { ...rest, mqtt: { url: b.url, ...mqtt } });
}

/** The built firmware as a process, for what needs one to kill. */
async function processOn(t: Test, b: Broker): Promise<RunningBox> {
  return startBoxFor(t, { mqtt: { url: b.url } });
}

/** The box's time passes while a subscriber waits (its MQTT timers are on the simulated clock). */
const waitOn = (box: BoxRig, sub: Subscriber, match: (m: Received) => boolean, limitMs?: number): Promise<Received> =>
  box.settle(sub.waitFor(match, limitMs), limitMs);

const status = (m: Received): Record<string, any> => JSON.parse(m.payload) as Record<string, any>;
const isStatus = (match: (s: Record<string, any>) => boolean) => (m: Received) => m.topic === `${P}/status` && match(status(m));

async function registers(box: BoxRig): Promise<{ limit: number; enable: number; phases: number }> {
  const modbus = await tcpClient(Number(box.modbusPort));
  try {
    const limit = (await modbus.readHoldingRegisters(8093, 2)).data;
    const phases = (await modbus.readHoldingRegisters(8087, 1)).data;
    return { limit: limit[0] as number, enable: limit[1] as number, phases: phases[0] as number };
  } finally {
    modbus.close(() => {});
  }
}

/** Plugs in a car asking for C and waits for the contactor. */
async function charge(box: BoxRig): Promise<void> {
  await box.simPost('/sim/ev', { state: 'C' });
  await box.pace(() => box.snapshot()['relayClosed'] === true);
}

t.test('status: retained, published as the simulated car charges, with the §8 fields', async (t) => {
  const b = await brokerFor(t);
  const live = await subscriberFor(t, b, `${P}/#`);
  const box = await boxOn(t, b);
  const online = await waitOn(box, live, (m) => m.topic === `${P}/availability`);
  t.equal(online.payload, 'online');
  const idle = status(
    await waitOn(
      box,
      live,
      isStatus((s) => s['cp'] === 'A'),
    ),
  );
  t.same(
    Object.keys(idle).sort(),
    [
      'cp',
      'status',
      'errorCode',
      'offeredCurrentA',
      'limitedBy',
      'pausedBy',
      'contactor',
      'phases',
      'powerW',
      'energyWh',
      'currentsA',
      'energyManager',
      'ocpp',
      'transaction',
      'faults',
      'gridLimited',
    ].sort(),
  );
  t.match(idle, {
    status: 'Available',
    offeredCurrentA: 0,
    contactor: 'open',
    ocpp: 'off',
    transaction: null,
    faults: [],
    gridLimited: false,
    energyManager: { limitA: 32, enabled: true },
  });

  await charge(box);
  const charging = status(
    await waitOn(
      box,
      live,
      isStatus((s) => s['status'] === 'Charging' && s['powerW'] > 0),
    ),
  );
  t.match(charging, {
    cp: 'C',
    offeredCurrentA: 32,
    limitedBy: 'hardware',
    pausedBy: null,
    contactor: 'closed',
    phases: 3,
    currentsA: [32, 32, 32],
    powerW: 22080,
  });
  const later = status(
    await waitOn(
      box,
      live,
      isStatus((s) => s['energyWh'] > charging['energyWh']),
    ),
  );
  t.ok(later['energyWh'] > charging['energyWh'], 'the energy counts up in later status messages');
  const times = live.messages.filter((m) => m.topic === `${P}/status`).length;
  t.ok(times >= 3, 'a status on each change');

  // A client that comes later gets the last status at once, flagged retained, and the availability.
  const late = await subscriberFor(t, b, `${P}/+`);
  const retained = await waitOn(box, late, (m) => m.topic === `${P}/status`);
  t.equal(retained.retained, true);
  t.equal(status(retained)['status'], 'Charging');
  t.match(await waitOn(box, late, (m) => m.topic === `${P}/availability`), { payload: 'online', retained: true });
});

t.test('commands: the same input as Modbus 8093/8094, seen on the pilot and read back from the registers', async (t) => {
  const b = await brokerFor(t);
  const live = await subscriberFor(t, b, `${P}/#`);
  const box = await boxOn(t, b);
  await waitOn(
    box,
    live,
    isStatus(() => true),
  );
  await charge(box);

  t.equal(await publish(b, `${P}/set/limit`, { message: '10' }), 0);
  await box.pace(() => {
    const s = box.snapshot();
    return s['offeredCurrentA'] === 10;
  });
  t.same(await registers(box), { limit: 100, enable: 1, phases: 0 }, '8093 reads back what MQTT wrote');
  await waitOn(
    box,
    live,
    isStatus((s) => s['energyManager'].limitA === 10 && s['offeredCurrentA'] === 10 && s['limitedBy'] === 'modbus'),
  );

  await publish(b, `${P}/set/enable`, { message: '0' });
  await box.pace(() => {
    const s = box.snapshot();
    return s['pilot'] === 'x1';
  });
  const paused = box.snapshot();
  t.equal(paused['offeredCurrentA'], 0, 'enable 0: the PWM stops');
  t.same(await registers(box), { limit: 100, enable: 0, phases: 0 });
  await waitOn(
    box,
    live,
    isStatus((s) => s['pausedBy'] === 'modbusDisabled' && s['energyManager'].enabled === false),
  );

  await publish(b, `${P}/set/enable`, { message: '1' });
  await box.pace(() => {
    const s = box.snapshot();
    return s['pilot'] === 'pwm' && s['offeredCurrentA'] === 10;
  });

  // One input: a Modbus write after MQTT wins, and the status shows it.
  const modbus = await tcpClient(Number(box.modbusPort));
  await modbus.writeRegister(8093, 160);
  modbus.close(() => {});
  await box.pace(() => {
    const s = box.snapshot();
    return s['offeredCurrentA'] === 16;
  });
  await waitOn(
    box,
    live,
    isStatus((s) => s['energyManager'].limitA === 16),
  );

  await publish(b, `${P}/set/limit`, { message: '0' });
  await box.pace(() => {
    const s = box.snapshot();
    return s['pilot'] === 'x1' && s['offeredCurrentA'] === 0;
  });
  t.same(await registers(box), { limit: 0, enable: 1, phases: 0 }, 'limit 0 pauses, 8094 stays 1');
  await publish(b, `${P}/set/limit`, { message: '7.5' });
  await box.pace(() => {
    const s = box.snapshot();
    return s['offeredCurrentA'] === 7.5;
  });
  t.equal((await registers(box)).limit, 75);
  t.notOk(
    live.messages.some((m) => m.topic === `${P}/error`),
    'no command was refused',
  );
});

t.test('bad commands: answered on P/error naming topic and reason; nothing changes', async (t) => {
  const b = await brokerFor(t);
  const live = await subscriberFor(t, b, `${P}/#`);
  // A command left retained on the broker is not carried out when the box subscribes (at every
  // reconnect it would overwrite what the energy manager wrote since).
  await publish(b, `${P}/set/limit`, { message: '20' }, { retain: true });
  const box = await boxOn(t, b);
  const stale = await waitOn(box, live, (m) => m.topic === `${P}/error`);
  t.match(JSON.parse(stale.payload), { topic: `${P}/set/limit`, reason: /^retained command ignored/ });
  await publish(b, `${P}/set/limit`, { message: '' }, { retain: true });
  t.same(await registers(box), { limit: 320, enable: 1, phases: 0 }, 'the boot value of 8093 stays');
  await charge(box);
  await publish(b, `${P}/set/limit`, { message: '12' });
  await box.pace(() => {
    const s = box.snapshot();
    return s['offeredCurrentA'] === 12;
  });
  const big = join(t.testdir(), 'big.txt');
  writeFileSync(big, '1'.repeat(1024 * 1024));

  const cases: Array<{ topic: string; payload: { message: string } | { file: string }; reason: RegExp; retain?: boolean }> = [
    { topic: 'set/limit', payload: { message: 'sixteen' }, reason: /^not a number/ },
    { topic: 'set/limit', payload: { message: '3' }, reason: /^out of range/ },
    { topic: 'set/limit', payload: { message: '81' }, reason: /^out of range/ },
    { topic: 'set/limit', payload: { file: big }, reason: /^payload too large \(1048576 bytes/ },
    { topic: 'set/enable', payload: { message: '2' }, reason: /^must be 0 or 1/ },
    { topic: 'set/phases', payload: { message: '1' }, reason: /^phase switching is not enabled/ },
    { topic: 'set/bogus', payload: { message: '1' }, reason: /^unknown command topic/ },
  ];
  for (const c of cases) {
    const topic = `${P}/${c.topic}`;
    const seen = live.messages.length;
    t.equal(await publish(b, topic, c.payload), 0);
    const error = await waitOn(box, live, (m) => m.topic === `${P}/error` && live.messages.indexOf(m) >= seen);
    t.equal(error.retained, false, 'P/error is not retained');
    t.match(JSON.parse(error.payload), { topic, reason: c.reason }, `${c.topic}: ${JSON.stringify(c.payload).slice(0, 40)}`);
  }

  t.same(await registers(box), { limit: 120, enable: 1, phases: 0 }, 'the registers are as before');
  const sim = await box.sim();
  t.match(sim, { offeredCurrentA: 12, relayClosed: true, pilot: 'pwm' }, 'charging goes on as before');
  t.equal(box.firmware.health().controlLoop, true, 'the firmware runs on');
});

t.test('an accepted command resets the Modbus watchdog; without one the failsafe applies', async (t) => {
  const b = await brokerFor(t);
  const live = await subscriberFor(t, b, `${P}/#`);
  const box = await boxOn(t, b, { modbus: { timeoutS: 2, failsafeCurrentA: 6 } });
  await waitOn(
    box,
    live,
    isStatus(() => true),
  );
  await charge(box);
  // The first command's way (broker, protocol worker, charging port) is awaited; then it only has to hold.
  await publish(b, `${P}/set/limit`, { message: '16' });
  await box.pace(() => {
    const s = box.snapshot();
    return s['offeredCurrentA'] === 16;
  }, 5000);
  // Eight commands 500 ms of the box's time apart (4 s and more, twice the timeout): each is
  // awaited on its way in (its log line), so the watchdog is judged on commands that arrived, not
  // on the broker's pace. A count, not a deadline: the wait for a log line also moves the box's
  // time, and a deadline made the number of asserts vary from run to run.
  for (let command = 0; command < 8; command++) {
    const from = box.logs.lines.length;
    await publish(b, `${P}/set/limit`, { message: '16' });
    await box.pace(() => box.logs.find((l) => l['msg'] === 'MQTT command carried out', from) !== undefined, 2000);
    t.equal(box.snapshot()['offeredCurrentA'], 16, 'the watchdog has not fired');
    await box.advance(500);
  }
  await box.pace(() => {
    const s = box.snapshot();
    return s['offeredCurrentA'] === 6;
  }, 5000);
  const fired = box.snapshot();
  t.equal(fired['relayClosed'], true, 'no command for 2 s: the failsafe limit, charging on');
});

t.test('set/phases with phase switching enabled: the same request as 8087', async (t) => {
  const b = await brokerFor(t);
  const live = await subscriberFor(t, b, `${P}/#`);
  const box = await boxOn(t, b, { evse: { phaseSwitching: { enabled: true, minIntervalS: 0, pauseS: 1 } } });
  await waitOn(
    box,
    live,
    isStatus(() => true),
  );
  await charge(box);
  await publish(b, `${P}/set/phases`, { message: '1' });
  await box.pace(() => {
    const s = box.snapshot();
    return s['phaseRelay'] === 1 && s['relayClosed'] === true;
  }, 20_000);
  t.equal((await registers(box)).phases, 1, '8087 reads 1 (one phase)');
  await waitOn(
    box,
    live,
    isStatus((s) => s['phases'] === 1 && s['status'] === 'Charging'),
    15_000,
  );
});

t.test('the last will: offline, retained, when the firmware is killed; offline also after a clean stop', async (t) => {
  const b = await brokerFor(t);
  const live = await subscriberFor(t, b, `${P}/availability`);
  const box = await processOn(t, b);
  await live.waitFor((m) => m.payload === 'online');
  await box.fw.kill();
  t.match(await live.waitFor((m) => m.payload === 'offline'), { topic: `${P}/availability`, payload: 'offline' });
  const late = await subscriberFor(t, b, `${P}/availability`);
  t.match(await late.waitFor(() => true), { payload: 'offline', retained: true });

  const again = await processOn(t, b);
  await late.waitFor((m) => m.payload === 'online');
  const seen = late.messages.length;
  t.equal(await again.fw.stop(), 0, 'a clean stop');
  t.match(await late.waitFor((m) => late.messages.indexOf(m) >= seen), { payload: 'offline' });
});

t.test('the broker stopped and restarted during a charge: charging unaffected, status back within the backoff', async (t) => {
  const b = await brokerFor(t);
  const box = await boxOn(t, b);
  const first = await subscriberFor(t, b, `${P}/status`);
  await waitOn(box, first, () => true);
  await charge(box);
  await waitOn(
    box,
    first,
    isStatus((s) => s['status'] === 'Charging'),
  );
  await first.stop();

  await b.stop();
  const before = box.snapshot();
  for (let i = 0; i < 10; i++) {
    const sim = box.snapshot();
    t.ok(
      sim['relayClosed'] === true && sim['offeredCurrentA'] === 32 && sim['pilot'] === 'pwm',
      `still charging ${i * 200} ms into the outage`,
    );
    await box.advance(200);
  }
  t.ok(box.snapshot()['meter'].energyWh > before['meter'].energyWh, 'energy flows on');
  await box.fw.waitForLog((l) => l['msg'] === 'MQTT connection failed; retrying with backoff');

  const restartedAt = box.clock.now();
  await b.restart();
  // Nothing retained survives the restart (persistence off): what arrives was published anew.
  const fresh = await subscriberFor(t, b, `${P}/#`);
  await waitOn(box, fresh, (m) => m.topic === `${P}/availability` && m.payload === 'online', 10_000);
  const back = await waitOn(
    box,
    fresh,
    isStatus((s) => s['status'] === 'Charging'),
    10_000,
  );
  const backMs = box.clock.now() - restartedAt;
  t.ok(backMs < 10_000, `status back ${backMs} ms (of the box's time) after the restart`);
  t.equal(status(back)['offeredCurrentA'], 32);
  t.equal(box.firmware.health().controlLoop, true, 'the firmware runs on');
});

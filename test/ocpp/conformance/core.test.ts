import t from 'tap';
import { ocppRigFor } from '../../helpers/ocpp-rig.js';

/**
 * OCA OCPP 1.6 charge-point test cases, Core profile: authorisation, transactions, availability,
 * BootNotification and configuration, on the simulated board and clock against the strict
 * independent central system.
 */

t.test('a card presented on an Inoperative connector starts no transaction and sends no Authorize', async (t) => {
  const rig = await ocppRigFor(t);
  let from = rig.cs.calls.length;
  t.same(await rig.call('ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), { status: 'Accepted' });
  await rig.waitStatus('Unavailable', from);
  rig.car('C');
  await rig.advance(2000);
  from = rig.cs.calls.length;
  rig.card('CARD1');
  await rig.advance(5000);
  t.same(rig.since(from, 'StartTransaction'), [], 'no StartTransaction');
  t.same(rig.since(from, 'Authorize'), [], 'no Authorize');
  t.equal(rig.cp.transactions.transaction, null);
  t.notOk(rig.plant.contactorCommanded, 'never energised');
});

t.test(
  "a card whose Authorize carries the running transaction's parentIdTag stops it: Authorize for that card, StopTransaction Local with its idTag",
  async (t) => {
    const rig = await ocppRigFor(t, {
      prepare: (cs) =>
        (cs.handlers.Authorize = (p) => ({
          idTagInfo: { status: 'Accepted', ...(p['idTag'] !== 'STRANGER' && { parentIdTag: 'FLEET' }) },
        })),
    });
    let from = rig.cs.calls.length;
    rig.card('DRIVER-A');
    rig.car('C');
    await rig.waitCall('StartTransaction', (p) => p['idTag'] === 'DRIVER-A', from);
    await rig.waitStatus('Charging', from);
    from = rig.cs.calls.length;
    rig.card('STRANGER');
    await rig.waitCall('Authorize', (p) => p['idTag'] === 'STRANGER', from);
    await rig.advance(2000);
    t.same(rig.since(from, 'StopTransaction'), [], 'a card of another group does not stop it');
    from = rig.cs.calls.length;
    rig.card('DRIVER-B');
    await rig.waitCall('Authorize', (p) => p['idTag'] === 'DRIVER-B', from);
    const stop = await rig.waitCall('StopTransaction', () => true, from);
    t.match(stop.params, { reason: 'Local', idTag: 'DRIVER-B' });
  },
);

t.test('a card known in the local list with the same parentIdTag stops the transaction without an Authorize', async (t) => {
  const rig = await ocppRigFor(t, {
    prepare: (cs) => (cs.handlers.Authorize = () => ({ idTagInfo: { status: 'Accepted', parentIdTag: 'FLEET' } })),
  });
  t.same(
    await rig.call('SendLocalList', {
      listVersion: 3,
      updateType: 'Full',
      localAuthorizationList: [{ idTag: 'DRIVER-B', idTagInfo: { status: 'Accepted', parentIdTag: 'FLEET' } }],
    }),
    { status: 'Accepted' },
  );
  let from = rig.cs.calls.length;
  rig.card('DRIVER-A');
  rig.car('C');
  await rig.waitStatus('Charging', from);
  from = rig.cs.calls.length;
  rig.card('DRIVER-B');
  const stop = await rig.waitCall('StopTransaction', () => true, from);
  t.match(stop.params, { reason: 'Local', idTag: 'DRIVER-B' });
  t.same(rig.since(from, 'Authorize'), [], 'known locally: no Authorize');
});

t.test(
  'the cable is unlocked at the normal end of a transaction (stop by card, car still plugged), never while the supply is live',
  async (t) => {
    const rig = await ocppRigFor(t);
    let from = rig.cs.calls.length;
    rig.card('DRIVER');
    rig.car('C');
    await rig.waitStatus('Charging', from);
    t.ok(rig.plant.lockCommanded, 'locked while charging');
    from = rig.cs.calls.length;
    let unlockedWhileLive = false;
    rig.card('DRIVER');
    await rig.pace(
      () => {
        if (!rig.plant.lockCommanded && rig.plant.contactorCommanded) unlockedWhileLive = true;
        return !rig.plant.lockCommanded;
      },
      10_000,
      5,
    );
    t.match((await rig.waitCall('StopTransaction', () => true, from)).params, { reason: 'Local' });
    t.notOk(unlockedWhileLive, 'the lock released only after the contactor opened');
    t.equal(rig.plant.ev.settings.state, 'C', 'the car is still plugged in');
    await rig.advance(3000);
    t.notOk(rig.plant.lockCommanded, 'stays released');
    t.notOk(rig.plant.contactorCommanded, 'no power to an unlocked plug');
  },
);

t.test("while BootNotification is Rejected the charge point does not answer the central system's CALLs", async (t) => {
  const rig = await ocppRigFor(t, {
    noWait: true,
    prepare: (cs) => (cs.handlers.BootNotification = () => ({ status: 'Rejected', interval: 600, currentTime: new Date().toISOString() })),
  });
  await rig.waitCall('BootNotification');
  await rig.pace(() => rig.cp.bootState === 'Rejected', 10_000);
  let answered = false;
  rig.cs.call('GetConfiguration', { key: ['HeartbeatInterval'] }).then(
    () => (answered = true),
    () => {},
  );
  await rig.advance(5000);
  t.notOk(answered, 'no CALLRESULT while Rejected');
});

t.test('MeterValueSampleInterval changed during a transaction takes effect at once, not at the old timer', async (t) => {
  const rig = await ocppRigFor(t, { files: { 'ocpp-configuration.json': JSON.stringify({ MeterValueSampleInterval: '60' }) } });
  let from = rig.cs.calls.length;
  rig.card('DRIVER');
  rig.car('C');
  await rig.waitStatus('Charging', from);
  await rig.advance(5000);
  from = rig.cs.calls.length;
  t.same(await rig.call('ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '1' }), { status: 'Accepted' });
  await rig.advance(5000);
  t.ok(rig.since(from, 'MeterValues').length >= 3, `MeterValues within 5 s of the change to 1 s: ${rig.since(from, 'MeterValues').length}`);
});

t.test('HeartbeatInterval changed takes effect at once', async (t) => {
  const rig = await ocppRigFor(t);
  const from = rig.cs.calls.length;
  t.same(await rig.call('ChangeConfiguration', { key: 'HeartbeatInterval', value: '2' }), { status: 'Accepted' });
  await rig.advance(7000);
  t.ok(rig.since(from, 'Heartbeat').length >= 3, `Heartbeats within 7 s of the change to 2 s: ${rig.since(from, 'Heartbeat').length}`);
});

t.test('ClockAlignedDataInterval changed takes effect at once', async (t) => {
  const rig = await ocppRigFor(t, { files: { 'ocpp-configuration.json': JSON.stringify({ ClockAlignedDataInterval: '3600' }) } });
  const from = rig.cs.calls.length;
  t.same(await rig.call('ChangeConfiguration', { key: 'ClockAlignedDataInterval', value: '2' }), { status: 'Accepted' });
  await rig.advance(7000);
  t.ok(
    rig.since(from, 'MeterValues').length >= 3,
    `aligned MeterValues within 7 s of the change to 2 s: ${rig.since(from, 'MeterValues').length}`,
  );
});

t.test('WebSocketPingInterval changed takes effect at once', async (t) => {
  const rig = await ocppRigFor(t, { files: { 'ocpp-configuration.json': JSON.stringify({ WebSocketPingInterval: '3600' }) } });
  let pings = 0;
  // ocpp-rpc keeps the server side's WebSocket in _ws; its 'ping' event is ours arriving.
  rig.cs.client()._ws.on('ping', () => (pings += 1));
  t.same(await rig.call('ChangeConfiguration', { key: 'WebSocketPingInterval', value: '1' }), { status: 'Accepted' });
  await rig.advance(5000);
  t.ok(pings >= 3, `pings within 5 s of the change to 1 s: ${pings}`);
});

/** The largest interval an OCPP integer key can carry (s), and one just past setTimeout's 24.8 days. */
const LONGEST_S = 2_147_483_647;
const PAST_TIMER_S = 2_147_484;
/** A host timer past its limit fires after 1 ms, and again at each re-arm: half a second shows the flood. */
const FLOOD_WINDOW_MS = 500;

t.test('a Boot interval of 3,000,000 s is honoured: no Heartbeat flood (host timers, real time)', async (t) => {
  const rig = await ocppRigFor(t, {
    realTime: true,
    prepare: (cs) =>
      (cs.handlers.BootNotification = () => ({ status: 'Accepted', interval: 3_000_000, currentTime: new Date().toISOString() })),
  });
  const from = rig.cs.calls.length;
  await rig.advance(FLOOD_WINDOW_MS);
  t.same(rig.since(from, 'Heartbeat').length, 0, `no Heartbeat within ${FLOOD_WINDOW_MS} ms`);
});

t.test('a Boot Pending interval of 3,000,000 s is honoured: no BootNotification flood (host timers, real time)', async (t) => {
  const rig = await ocppRigFor(t, {
    realTime: true,
    noWait: true,
    prepare: (cs) =>
      (cs.handlers.BootNotification = () => ({ status: 'Pending', interval: 3_000_000, currentTime: new Date().toISOString() })),
  });
  await rig.waitCall('BootNotification');
  await rig.advance(FLOOD_WINDOW_MS);
  t.equal(rig.since(0, 'BootNotification').length, 1, `one BootNotification in ${FLOOD_WINDOW_MS} ms`);
});

for (const value of [PAST_TIMER_S, LONGEST_S]) {
  t.test(
    `every interval key set to ${value} s during a transaction is honoured: no Heartbeat, MeterValues or ping flood (host timers, real time)`,
    async (t) => {
      const rig = await ocppRigFor(t, { realTime: true });
      let pings = 0;
      rig.cs.client()._ws.on('ping', () => (pings += 1));
      rig.card('DRIVER');
      rig.car('C');
      await rig.waitCall('StartTransaction');
      for (const key of [
        'HeartbeatInterval',
        'MeterValueSampleInterval',
        'ClockAlignedDataInterval',
        'WebSocketPingInterval',
        'TransactionMessageRetryInterval',
        'ConnectionTimeOut',
      ]) {
        t.same(await rig.call('ChangeConfiguration', { key, value: String(value) }), { status: 'Accepted' }, key);
      }
      const from = rig.cs.calls.length;
      pings = 0;
      await rig.advance(FLOOD_WINDOW_MS);
      t.same(
        rig.since(from).map((c) => c.action),
        [],
        `nothing sent within ${FLOOD_WINDOW_MS} ms`,
      );
      t.equal(pings, 0, `no WebSocket ping within ${FLOOD_WINDOW_MS} ms`);
      t.ok(rig.cp.queueState.queued <= 1, `nothing piling up in the journal: ${rig.cp.queueState.queued} queued`);
    },
  );
}

t.test(
  "the host clock, synchronised (sim.clockSynced true, the default), is the time source: Boot's currentTime does not move OCPP timestamps",
  async (t) => {
    const rig = await ocppRigFor(t, {
      prepare: (cs) =>
        (cs.handlers.BootNotification = () => ({
          status: 'Accepted',
          interval: 300,
          currentTime: new Date(Date.now() + 86_400_000).toISOString(),
        })),
    });
    const status = rig.since(0, 'StatusNotification')[0];
    const skewMs = Date.parse(String(status?.params['timestamp'])) - rig.clock.now();
    t.ok(Math.abs(skewMs) < 5000, `StatusNotification stamped ${String(status?.params['timestamp'])}, the host clock`);
  },
);

t.test(
  'an unsynchronised host clock takes a plausible currentTime; an implausible one (before the build, year 9999) is ignored and logged, and MeterValues stay schema-valid',
  async (t) => {
    const lines: string[] = [];
    const { createLogger } = await import('../../../firmware/log.js');
    let currentTime = new Date(Date.now() + 86_400_000).toISOString();
    const rig = await ocppRigFor(t, {
      config: { sim: { clockSynced: false } },
      log: createLogger({ level: 'warn', write: (line) => lines.push(line) }),
      files: { 'ocpp-configuration.json': JSON.stringify({ MeterValueSampleInterval: '5' }) },
      prepare: (cs) => {
        cs.handlers.BootNotification = () => ({ status: 'Accepted', interval: 300, currentTime });
        cs.handlers.Heartbeat = () => ({ currentTime });
      },
    });
    const first = rig.since(0, 'StatusNotification')[0];
    t.ok(Math.abs(Date.parse(String(first?.params['timestamp'])) - Date.parse(currentTime)) < 5000, 'a day ahead: taken');
    for (const bogus of ['9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '2000-01-01T00:00:00.000Z']) {
      currentTime = bogus;
      const from = rig.cs.calls.length;
      t.same(await rig.call('TriggerMessage', { requestedMessage: 'Heartbeat' }), { status: 'Accepted' });
      await rig.waitCall('Heartbeat', () => true, from);
      await rig.advance(500);
      t.ok(
        lines.some((l) => l.includes('implausible currentTime') && l.includes(bogus)),
        `${bogus} ignored and logged`,
      );
    }
    const from = rig.cs.calls.length;
    rig.card('DRIVER');
    rig.car('C');
    await rig.waitCall('StartTransaction', () => true, from);
    const meterValues = await rig.waitCall('MeterValues', () => true, from, 20_000);
    const stamp = Date.parse(String(meterValues.params['meterValue'][0]['timestamp']));
    t.ok(stamp < Date.parse('2100-01-01T00:00:00Z'), `MeterValues stamped ${String(meterValues.params['meterValue'][0]['timestamp'])}`);
    t.equal(rig.cp.queueState.deadLetters, 0, 'nothing given up on');
  },
);

t.test(
  'a central system that accepts the WebSocket and drops it before answering Boot gets a growing backoff, not a reconnect storm',
  async (t) => {
    const rig = await ocppRigFor(t, {
      noWait: true,
      prepare: (cs) =>
        (cs.handlers.BootNotification = () => {
          cs.client().close({ force: true });
          return new Promise(() => {});
        }),
    });
    await rig.advance(60_000, 100);
    const attempts = rig.cs.connections.length;
    // 1 s doubling with equal jitter: at least 0.5 + 1 + 2 + 4 + 8 + 16 s between the first 7.
    t.ok(attempts >= 3 && attempts <= 8, `${attempts} connections in 60 s`);
  },
);

import t from 'tap';
import { MessageChannel } from 'node:worker_threads';
import { ChargingPortHost } from '../../firmware/charging/port-host.js';
import { ChargingPortProxy } from '../../firmware/charging/port-proxy.js';
import { STALE_AFTER_MS, type PortEndpoint, type ToProtocol } from '../../firmware/charging/port.js';
import { staleModbusInput, type ModbusFailsafe } from '../../firmware/charging/stale-inputs.js';
import { silentLogger } from '../../firmware/log.js';
import { simRig, type Rig } from '../helpers/sim-rig.js';

/** The charging port between two threads, played in one: host and proxy over a real MessageChannel. */
function overChannel(rig: Rig, modbusFailsafe: ModbusFailsafe = { timeoutS: 0, failsafeCurrentA: 6 }) {
  const channel = new MessageChannel();
  const host = new ChargingPortHost({ controller: rig.controller, clock: rig.clock, log: silentLogger, modbusFailsafe });
  host.attach(channel.port1);
  const proxy = new ChargingPortProxy({ endpoint: channel.port2, clock: rig.clock, log: silentLogger });
  return {
    host,
    proxy,
    close() {
      proxy.close();
      host.close();
      channel.port1.close();
    },
  };
}

/** An endpoint the test drives by hand: deterministic on the simulated clock. */
function handEndpoint() {
  const listeners = new Set<(message: unknown) => void>();
  const posted: ToProtocol[] = [];
  const endpoint: PortEndpoint = {
    postMessage: (message) => void posted.push(message as ToProtocol),
    on: (_event, listener) => listeners.add(listener),
    off: (_event, listener) => listeners.delete(listener),
  };
  return { endpoint, posted, send: (message: unknown) => listeners.forEach((listener) => listener(message)) };
}

t.test('every input, request and read crosses the port and round-trips', async (t) => {
  const rig = simRig({ evse: { phaseSwitching: { enabled: true, minIntervalS: 300, pauseS: 10 } }, ocpp: true });
  const port = overChannel(rig);
  t.teardown(() => port.close());
  const { proxy } = port;
  await proxy.ready;
  t.same(proxy.status(), rig.controller.status(), 'the first snapshot is the controller status');
  t.equal(proxy.phaseSwitchingEnabled, true);

  proxy.setModbusLimit(10, true);
  proxy.setOcppLimit(8);
  proxy.setOcppAllowed(true);
  await proxy.settled();
  t.match(rig.controller.status().offer, { limitA: 8, limitedBy: 'ocpp', pausedBy: null }, 'applied on the control side');
  t.same(proxy.status().offer, rig.controller.status().offer, 'and shown on the protocol side');

  proxy.setUserPaused(true);
  await proxy.settled();
  t.equal(proxy.status().offer.pausedBy, 'userPaused');
  proxy.setUserPaused(false);
  proxy.setOcppConfigured(false);
  await proxy.settled();
  t.match(proxy.status().offer, { limitA: 10, limitedBy: 'modbus', pausedBy: null }, 'OCPP switched off leaves Modbus as the limit');

  t.equal(proxy.requestCpDisconnect(5), true);
  await proxy.settled();
  t.equal(rig.controller.status().interruption?.kind, 'cpDisconnect');
  t.equal(proxy.requestCpDisconnect(5), false, 'a second disconnect is refused while one runs, as by the controller');
  t.equal(proxy.requestPhases(1), true);
  await proxy.settled();
  t.equal(proxy.phaseSelection(), 1, 'the phase request shows in 8087 at once');

  const seen: string[] = [];
  proxy.onChange((status) => seen.push(String(status.cp)));
  rig.plant.configureEv({ state: 'B' });
  await rig.waitFor(() => seen.includes('B'));
  t.pass('a change of state reaches the listeners');

  t.equal(await rig.settle(proxy.unlockConnector()), 'Unlocked', 'unlock: an asynchronous reply');
  await proxy.clearFaults();
  t.same(proxy.faultHistory(), rig.controller.faultHistory());
  await rig.waitFor(() => proxy.lastPassMs !== null && rig.clock.now() - proxy.lastPassMs < 1000);
  t.pass('the control side shows the time of its last pass');
});

t.test('the control side refuses a malformed message and applies nothing', async (t) => {
  const rig = simRig();
  const hand = handEndpoint();
  const host = new ChargingPortHost({
    controller: rig.controller,
    clock: rig.clock,
    log: silentLogger,
    modbusFailsafe: { timeoutS: 0, failsafeCurrentA: 6 },
  });
  t.teardown(() => host.close());
  host.attach(hand.endpoint);
  const before = rig.controller.status().offer;
  for (const bad of [
    { type: 'call', name: 'setModbusLimit', args: [Number.NaN, true] },
    { type: 'call', name: 'setModbusLimit', args: [-1, true] },
    { type: 'call', name: 'setModbusLimit', args: ['16', true] },
    { type: 'call', name: 'setModbusLimit', args: [16] },
    { type: 'call', name: 'requestPhases', args: [2] },
    { type: 'call', name: 'tick', args: [] },
    { type: 'call', name: 'setUserPaused', args: [true], extra: 1 },
    { type: 'request', id: -1, name: 'unlockConnector', args: [] },
    'setUserPaused',
    null,
  ]) {
    hand.send(bad);
  }
  t.same(rig.controller.status().offer, before, 'nothing changed');
  hand.send({ type: 'call', name: 'setModbusLimit', args: [16, true] });
  t.equal(rig.controller.status().offer.limitA, 16, 'a good message after them applies');
});

t.test('the stale-input rule (table)', async (t) => {
  const watchdog = { timeoutS: 10, failsafeCurrentA: 6 };
  const cases: Array<[string, Parameters<typeof staleModbusInput>[0], ModbusFailsafe, ReturnType<typeof staleModbusInput>]> = [
    ['watchdog: the failsafe below the last limit', { limitA: 16, enabled: true }, watchdog, { limitA: 6, enabled: true }],
    ['watchdog: a last limit below the failsafe stays', { limitA: 4, enabled: true }, watchdog, null],
    ['watchdog: 8094 keeps its value', { limitA: 32, enabled: false }, watchdog, { limitA: 6, enabled: false }],
    ['watchdog with failsafe 0: pause', { limitA: 32, enabled: true }, { timeoutS: 5, failsafeCurrentA: 0 }, { limitA: 0, enabled: true }],
    ['no watchdog: the last limit stays', { limitA: 32, enabled: true }, { timeoutS: 0, failsafeCurrentA: 6 }, null],
    ['nothing received yet: nothing to change', null, watchdog, null],
  ];
  for (const [what, last, failsafe, expected] of cases) t.same(staleModbusInput(last, failsafe), expected, what);
});

t.test(
  'silent for STALE_AFTER_MS: the Modbus watchdog failsafe applies, OCPP stays frozen, the contactor opens at failsafe 0; speaking again restores',
  async (t) => {
    const rig = simRig({ ocpp: true, modbusLimitA: 0 });
    rig.plant.configureEv({ state: 'C' });
    const hand = handEndpoint();
    const host = new ChargingPortHost({
      controller: rig.controller,
      clock: rig.clock,
      log: silentLogger,
      modbusFailsafe: { timeoutS: 30, failsafeCurrentA: 0 },
    });
    t.teardown(() => host.close());
    host.attach(hand.endpoint);
    hand.send({ type: 'call', name: 'setModbusLimit', args: [16, true] });
    hand.send({ type: 'call', name: 'setOcppAllowed', args: [true] });
    hand.send({ type: 'call', name: 'setOcppLimit', args: [10] });
    rig.until(() => rig.closed(), 5_000);
    t.equal(rig.controller.status().offeredA, 10);

    // Signs of life every 500 ms keep the inputs in force.
    for (let i = 0; i < 10; i++) {
      rig.clock.advance(500);
      hand.send({ type: 'alive' });
    }
    t.equal(host.stale, false);
    t.equal(rig.closed(), true, 'alive: still charging');

    const silentFrom = rig.clock.now();
    rig.clock.advance(STALE_AFTER_MS - 100);
    t.equal(rig.closed(), true, 'not yet stale');
    rig.until(() => host.stale, 1_000);
    const staleAfter = rig.clock.now() - silentFrom;
    t.ok(staleAfter > STALE_AFTER_MS && staleAfter <= STALE_AFTER_MS + 100, `stale after ${staleAfter} ms of silence`);
    t.match(
      rig.controller.status().offer,
      { offeredA: 0, limitA: 0, limitedBy: 'modbus' },
      'min(failsafe 0, last 16): the PWM is withdrawn',
    );
    const opened = rig.until(() => !rig.closed(), 10_000);
    t.ok(opened <= 3_000, `the contactor opened ${opened} ms later, once the car stopped drawing`);
    const posted = hand.posted.length;
    rig.clock.advance(10_000);
    t.equal(hand.posted.length - posted, 0, 'nothing is posted to a silent side: its queue cannot grow');

    hand.send({ type: 'alive' });
    t.equal(host.stale, false);
    t.match(rig.controller.status().offer, { limitA: 10, limitedBy: 'ocpp' }, 'speaking again: its inputs apply again');
    t.equal(hand.posted.at(-1)?.type, 'snapshot', 'and it gets the latest status');
    rig.until(() => rig.closed(), 10_000);
  },
);

t.test(
  'without a Modbus watchdog the stale inputs stay frozen (never more current); a protocol side gone applies the rule at once',
  async (t) => {
    const rig = simRig({ ocpp: true, modbusLimitA: 0 });
    rig.plant.configureEv({ state: 'C' });
    const hand = handEndpoint();
    const host = new ChargingPortHost({
      controller: rig.controller,
      clock: rig.clock,
      log: silentLogger,
      modbusFailsafe: { timeoutS: 0, failsafeCurrentA: 6 },
    });
    t.teardown(() => host.close());
    host.attach(hand.endpoint);
    hand.send({ type: 'call', name: 'setModbusLimit', args: [16, true] });
    hand.send({ type: 'call', name: 'setOcppAllowed', args: [true] });
    rig.until(() => rig.closed(), 5_000);
    rig.clock.advance(STALE_AFTER_MS * 3);
    t.equal(host.stale, true);
    t.match(rig.controller.status(), { offeredA: 16, contactorClosed: true }, 'frozen at the last limit');

    const watched = simRig({ ocpp: true, modbusLimitA: 0 });
    watched.plant.configureEv({ state: 'C' });
    const hand2 = handEndpoint();
    const host2 = new ChargingPortHost({
      controller: watched.controller,
      clock: watched.clock,
      log: silentLogger,
      modbusFailsafe: { timeoutS: 60, failsafeCurrentA: 8 },
    });
    t.teardown(() => host2.close());
    host2.attach(hand2.endpoint);
    hand2.send({ type: 'call', name: 'setModbusLimit', args: [16, true] });
    hand2.send({ type: 'call', name: 'setOcppAllowed', args: [true] });
    watched.until(() => watched.closed(), 5_000);
    host2.detach();
    t.equal(watched.controller.status().offer.limitA, 8, 'gone: the failsafe at once');
    watched.clock.advance(100);
    t.equal(watched.controller.status().offeredA, 8);

    host2.attach(hand2.endpoint);
    t.match(
      watched.controller.status().offer,
      { pausedBy: 'ocppNotAllowed' },
      'a new protocol side starts as at boot: no OCPP permission until its transaction',
    );
  },
);

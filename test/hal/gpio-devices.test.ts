import t from 'tap';
import { GpioConnectorLock, GpioContactor, GpioFaultInputs, GpioPhaseRelay } from '../../hal/linux/gpio-devices.js';
import { onoffGpio } from '../../hal/linux/onoff-gpio.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { fakeKernel } from '../helpers/fake-kernel.js';

/**
 * Relays, lock and fault inputs on GPIO through the onoff backend, with an injected Gpio class
 * standing in for the kernel: physical pin levels, active-low pins, edge watchers, pins that do
 * not exist or are not accessible.
 */

t.test('contactor: coil on its pin, mirror followed by edges; closing writes the pin; close leaves the coil off', async (t) => {
  const kernel = fakeKernel([17, 27]);
  const gpio = onoffGpio(kernel.Gpio);
  const contactor = new GpioContactor(
    gpio.output('contactor coil', { pin: 17 }),
    gpio.input('contactor mirror', { pin: 27, activeLow: true }, { edges: true, debounceMs: 10 }),
  );
  t.equal(kernel.pins.get(17)?.level, 0, 'the coil starts off');
  t.equal(contactor.mirrorClosed(), true, 'active-low mirror at physical 0 reads closed');
  kernel.drive(27, 1);
  t.equal(contactor.mirrorClosed(), false, 'an edge updates the mirror');
  contactor.setClosed(true);
  t.equal(kernel.pins.get(17)?.level, 1);
  t.equal(contactor.commandedClosed, true);
  kernel.drive(27, 0);
  t.equal(contactor.mirrorClosed(), true);
  contactor.close();
  t.equal(kernel.pins.get(17)?.level, 0, 'closing the driver opens the contactor');
  t.equal(kernel.pins.get(17)?.exported, false);
});

t.test('phase relay and lock: levels on their pins, an active-low actuator, the lock feedback read', async (t) => {
  const kernel = fakeKernel([5, 6, 13]);
  const gpio = onoffGpio(kernel.Gpio);
  const relay = new GpioPhaseRelay(gpio.output('phase relay', { pin: 5 }));
  relay.setPhases(1);
  t.equal(kernel.pins.get(5)?.level, 1, 'one phase: relay energised');
  relay.setPhases(3);
  t.equal(kernel.pins.get(5)?.level, 0);
  const lock = new GpioConnectorLock(gpio.output('lock actuator', { pin: 6, activeLow: true }), gpio.input('lock feedback', { pin: 13 }));
  t.equal(kernel.pins.get(6)?.level, 1, 'active-low actuator idles high');
  lock.setLocked(true);
  t.equal(kernel.pins.get(6)?.level, 0);
  t.equal(lock.feedbackLocked(), false);
  kernel.drive(13, 1);
  t.equal(lock.feedbackLocked(), true);
});

t.test('a missing or inaccessible pin is an error at start naming the signal and the pin', async (t) => {
  const gpio = onoffGpio(fakeKernel([]).Gpio);
  t.throws(() => gpio.output('contactor coil', { pin: 17 }), /^contactor coil \(GPIO 17\): EACCES/);
});

t.test('RCD module: a trip is seen by its edge; the self-test drives the test pin and needs a trip and a recovery', async (t) => {
  const clock = new SimulatedClock();
  const kernel = fakeKernel([22, 23]);
  const gpio = onoffGpio(kernel.Gpio);
  let moduleWorks = true;
  kernel.onWrite((pin, level) => {
    if (pin !== 23) return;
    clock.setTimeout(() => kernel.drive(22, level === 1 && moduleWorks ? 1 : 0), 20);
  });
  const faults = new GpioFaultInputs(gpio.input('RCD trip', { pin: 22 }, { edges: true }), gpio.output('RCD test', { pin: 23 }), clock);
  t.equal(faults.rcdTripped(), false);
  const settle = async (p: Promise<boolean>): Promise<boolean> => {
    let done = false;
    const tracked = p.finally(() => (done = true));
    while (!done) {
      clock.advance(5);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return tracked;
  };
  const test = faults.selfTestRcd();
  clock.advance(25);
  t.equal(faults.rcdTripped(), false, 'our own test current is not a fault');
  t.equal(await settle(test), true, 'tripped and recovered');
  moduleWorks = false;
  t.equal(await settle(faults.selfTestRcd()), false, 'a module that does not trip fails its self-test');
  kernel.drive(22, 1);
  t.equal(faults.rcdTripped(), true, 'a real trip');
});

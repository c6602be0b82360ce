import t, { type Test } from 'tap';
import { closeHal, type Hal } from '../../hal/hal.js';
import { systemClock } from '../../hal/clock.js';
import { createSimHal } from '../../hal/sim/peripherals.js';
import { SimPlant } from '../../hal/sim/plant.js';
import { FAKE_SOM_FILES, fakeSom, type CarState } from '../helpers/fake-som.js';

/**
 * One HAL conformance suite, run against the simulated board and against the Linux drivers of
 * the reference board with fakes at the kernel boundary: what the charging core relies on of
 * every interface, in real time.
 */

interface World {
  readonly hal: Hal;
  setCar(state: CarState): void;
  /** The grid operator's contact as the installer's wiring closes or opens it. */
  setGridContact(closed: boolean): void;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function within(ms: number, condition: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(2);
  }
  return true;
}

function conformance(name: string, makeWorld: (t: Test) => Promise<World>): void {
  t.test(`HAL conformance: ${name}`, async (t) => {
    const world = await makeWorld(t);
    const { hal } = world;
    try {
      hal.pilot.drive({ mode: 'x1' });
      t.same(hal.pilot.output, { mode: 'x1' });
      t.ok(await within(200, () => Math.abs(hal.pilot.sample().highV - 12) < 1), 'no car, +12 V steady: CP reads 12 V');
      world.setCar('B');
      hal.pilot.drive({ mode: 'pwm', dutyPct: 50 });
      t.ok(
        await within(200, () => Math.abs(hal.pilot.sample().highV - 9) < 1 && Math.abs(hal.pilot.sample().lowV + 12) < 1),
        'a car in B on PWM: 9 V high, −12 V low (the diode)',
      );
      // PP changes only with a plug: the Linux board reads it every 20th ADC round (about 50 ms).
      t.ok(
        await within(500, () => hal.proximity.resistanceOhm() > 150 && hal.proximity.resistanceOhm() < 330),
        `PP of a 32 A cable: ${hal.proximity.resistanceOhm().toFixed(0)} Ω`,
      );
      hal.pilot.drive({ mode: 'E' });
      t.ok(await within(200, () => Math.abs(hal.pilot.sample().highV) < 1), 'state E: 0 V');
      hal.contactor.setClosed(true);
      t.equal(hal.contactor.commandedClosed, true);
      t.ok(await within(100, () => hal.contactor.mirrorClosed()), 'the mirror follows the coil within 100 ms');
      hal.contactor.setClosed(false);
      t.ok(await within(100, () => !hal.contactor.mirrorClosed()), 'and opens with it');
      hal.phaseRelay.setPhases(1);
      t.equal(hal.phaseRelay.phases, 1);
      hal.phaseRelay.setPhases(3);
      t.equal(hal.phaseRelay.phases, 3);
      hal.lock.setLocked(true);
      t.equal(hal.lock.commandedLocked, true);
      t.ok(await within(1000, () => hal.lock.feedbackLocked()), 'the lock feedback follows');
      hal.lock.setLocked(false);
      t.ok(await within(1000, () => !hal.lock.feedbackLocked()));
      t.equal(hal.faults.rcdTripped(), false);
      t.equal(await hal.faults.selfTestRcd(), true, 'the RCD self-test passes');
      t.equal(hal.faults.rcdTripped(), false, 'and leaves no trip behind');
      t.ok(await within(3000, () => hal.meter.latest() !== null), 'the meter gives a reading');
      t.doesNotThrow(() => hal.watchdog.feed());
      const grid = hal.gridContact;
      if (t.ok(grid, 'the grid operator input is there')) {
        t.equal(grid?.closed(), false, 'grid contact open');
        world.setGridContact(true);
        t.ok(await within(100, () => grid?.closed() === true), 'the grid contact closing is seen within 100 ms');
        world.setGridContact(false);
        t.ok(await within(100, () => grid?.closed() === false), 'and its opening');
      }
    } finally {
      await world.close();
    }
  });
}

conformance('sim board', async () => {
  const plant = new SimPlant({ clock: systemClock, wiredPhases: 3, voltageV: 230 });
  const hal = createSimHal(plant);
  return {
    hal,
    setCar: (state) => plant.configureEv({ state }),
    setGridContact: (closed) => (plant.gridContactClosed = closed),
    close: () => closeHal(hal),
  };
});

conformance('reference Linux board (som-ref) on fakes at the kernel boundary', async (t) => {
  const som = await fakeSom(t.testdir(FAKE_SOM_FILES));
  return {
    hal: som.board.hal,
    setCar: (state) => (som.car = state),
    setGridContact: (closed) => som.drive(som.file.gpio.gridControl?.pin ?? -1, closed ? 1 : 0),
    close: () => som.close(),
  };
});

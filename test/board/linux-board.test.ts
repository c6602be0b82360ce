import t from 'tap';
import { parseBoardFile } from '../../board/board-file.js';
import somRef from '../../board/som-ref.json' with { type: 'json' };
import { parseConfig } from '../../firmware/config.js';
import { Firmware } from '../../firmware/firmware.js';
import { silentLogger } from '../../firmware/log.js';
import { systemClock } from '../../hal/clock.js';
import { FAKE_SOM_FILES, fakeSom } from '../helpers/fake-som.js';

/**
 * A charge cycle on the reference board (board/som-ref.json) with fakes at the kernel boundary:
 * a folder for the sysfs PWM tree, an injected GPIO class whose contactor mirror and lock
 * feedback follow their outputs, an ADS1115 whose CP inputs follow a car model reading the PWM
 * and the state-E switch, and a meter emulator over socat. The firmware core runs on it.
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('the board file is checked; an error names the key', async (t) => {
  t.throws(
    () => parseBoardFile({ ...somRef, adc: { ...somRef.adc, address: 7 } }, 'x.json'),
    /board file x.json: adc.address: must be >= 72/,
  );
  t.throws(
    () => parseBoardFile({ ...somRef, gpio: { ...somRef.gpio, typo: { pin: 1 } } }, 'x.json'),
    /gpio: must NOT have additional properties \(typo\)/,
  );
});

t.test('a charge cycle on the reference board: duty_cycle, GPIO levels and meter readings', async (t) => {
  const som = await fakeSom(t.testdir(FAKE_SOM_FILES));
  const { board, file, pwm, level } = som;
  const pins = file.gpio;
  t.equal(board.serialNumber, 'SOM-4711');
  const firmware = new Firmware({
    config: parseConfig({ dataDir: som.dataDir, modbus: { tcp: null }, grid: {} }),
    hal: board.hal,
    clock: systemClock,
    log: silentLogger,
    bootId: 'b',
  });
  await firmware.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await firmware.stop();
    await som.close();
  };
  // Normally stopped at the end of the test, before tap removes the fake sysfs tree.
  t.teardown(() => stop().catch(() => {}));
  const until = async (what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; status ${JSON.stringify(firmware.status().cp)}`);
      await sleep(5);
    }
  };
  await until('state A', () => firmware.status().cp === 'A');
  t.same(
    [pwm('period'), pwm('duty_cycle'), pwm('enable'), level(pins.cpStateE?.pin ?? -1)],
    ['1000000', '1000000', '1', 0],
    'A: +12 V steady (x1)',
  );
  t.equal(level(pins.contactorCoil.pin), 0);
  som.car = 'B';
  await until('lock', () => level(pins.lockActuator.pin) === 1);
  t.pass('B: the lock engages');
  som.car = 'C';
  await until('contactor', () => level(pins.contactorCoil.pin) === 1);
  t.equal(pwm('duty_cycle'), '533333', 'C: 32 A on the pilot (53.3 %)');
  t.equal(firmware.status().contactorClosed, true);
  const gridPin = pins.gridControl?.pin ?? -1;
  som.drive(gridPin, 1);
  await until('grid limit', () => pwm('duty_cycle') === '100000', 1000);
  t.pass("the grid operator's contact (GPIO 25) closed: 6.0 A on the pilot (10 %) within 1 s");
  som.drive(gridPin, 0);
  await until('grid release', () => pwm('duty_cycle') === '533333', 1000);
  t.pass('the contact opened: 32 A again');
  som.meterWords.set(0x06, 0x4180).set(0x48, 0x4148); // 16 A on L1, 12.5 → 12.5xx kWh
  await until('meter', () => (firmware.status().meter?.currentsA[0] ?? 0) === 16, 3000);
  t.ok((firmware.status().meter?.energyWh ?? 0) >= 12500, `meter ${firmware.status().meter?.energyWh} Wh`);
  som.car = 'A';
  await until('open', () => level(pins.contactorCoil.pin) === 0, 1000);
  await until('unlock', () => level(pins.lockActuator.pin) === 0);
  t.same([pwm('duty_cycle'), pwm('enable')], ['1000000', '1'], 'unplugged: x1 again, contactor open, lock released');
  await stop();
  t.same(
    [pwm('enable'), level(pins.cpStateE?.pin ?? -1), level(pins.contactorCoil.pin)],
    ['0', 0, 0],
    'stopped: pilot off, coil off, lines released',
  );
});

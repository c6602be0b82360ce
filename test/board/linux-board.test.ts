import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseBoardFile } from '../../board/board-file.js';
import { createLinuxBoard, type KernelAccess } from '../../board/linux.js';
import somRef from '../../board/som-ref.json' with { type: 'json' };
import { parseConfig } from '../../firmware/config.js';
import { Firmware } from '../../firmware/firmware.js';
import { silentLogger } from '../../firmware/log.js';
import { systemClock } from '../../hal/clock.js';
import { onoffGpio } from '../../hal/linux/onoff-gpio.js';
import { openMeterBus } from '../../hal/linux/sdm630-meter.js';
import { fakeAds1115, fakeKernel } from '../helpers/fake-kernel.js';
import { meterEmulator, meterRegisters } from '../helpers/meter-emulator.js';
import { startPtyPair } from '../helpers/socat.js';

/**
 * A charge cycle on the reference board (board/som-ref.json) with fakes at the kernel boundary:
 * a folder for the sysfs PWM tree, an injected GPIO class whose contactor mirror and lock
 * feedback follow their outputs, an ADS1115 whose CP inputs follow a car model reading the PWM
 * and the state-E switch, and a meter emulator over socat. The firmware core runs on it.
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('the board file is checked; an error names the key', async (t) => {
  t.throws(() => parseBoardFile({ ...somRef, adc: { ...somRef.adc, address: 7 } }, 'x.json'), /board file x.json: adc.address: must be >= 72/);
  t.throws(() => parseBoardFile({ ...somRef, gpio: { ...somRef.gpio, typo: { pin: 1 } } }, 'x.json'), /gpio: must NOT have additional properties \(typo\)/);
});

t.test('a charge cycle on the reference board: duty_cycle, GPIO levels and meter readings', async (t) => {
  const file = parseBoardFile(somRef, 'board/som-ref.json');
  const dir = t.testdir({
    pwm: { pwmchip0: { export: '', pwm0: { period: '0', duty_cycle: '0', polarity: 'normal', enable: '0' } } },
    watchdog: '',
    serial: 'SOM-4711\0',
  });
  const pwm = (name: string): string => readFileSync(join(dir, 'pwm', 'pwmchip0', 'pwm0', name), 'utf8');
  const pins = file.gpio;
  const kernel = fakeKernel(Object.values(pins).map((p) => p.pin));
  const level = (pin: number): number | undefined => kernel.pins.get(pin)?.level;
  // The hardware behind the outputs: the mirror contact and the lock feedback follow after 10 ms.
  kernel.onWrite((pin, value) => {
    if (pin === pins.contactorCoil.pin) setTimeout(() => kernel.drive(pins.contactorMirror.pin, value === 1 ? 0 : 1), 10);
    if (pin === pins.lockActuator.pin) setTimeout(() => kernel.drive(pins.lockFeedback.pin, value), 10);
  });
  kernel.drive(pins.contactorMirror.pin, 1); // active low: open
  // The car: what its pilot circuit shows on the peak detectors, through the board's divider.
  let car: 'A' | 'B' | 'C' = 'A';
  const pilotV = (): { high: number; low: number } => {
    if (level(pins.cpStateE?.pin ?? -1) === 1 || pwm('enable') === '0') return { high: 0, low: 0 };
    const duty = Number(pwm('duty_cycle')) / 1_000_000;
    const high = car === 'A' ? 12 : car === 'B' || duty === 1 ? 9 : 6; // a car asks for C only while PWM runs
    if (duty === 0) return { high: -12, low: -12 };
    return { high, low: duty === 1 ? high : -12 };
  };
  const adc = (channel: number): number => {
    const { cpScale, ppPullUpOhm, ppSupplyV } = file.adc;
    if (channel === file.adc.pp) return car === 'A' ? ppSupplyV : (ppSupplyV * 220) / (ppPullUpOhm + 220);
    const v = channel === file.adc.cpHigh ? pilotV().high : pilotV().low;
    return (v - cpScale.offsetV) / cpScale.gain;
  };
  const pair = await startPtyPair();
  t.teardown(() => pair.close());
  const words = meterRegisters({ 0x00: 230, 0x02: 230, 0x04: 230, 0x06: 0, 0x08: 0, 0x0a: 0, 0x34: 0, 0x48: 12.5 });
  const meterSide = await meterEmulator(pair.masterPath, words, file.meter.unitId);
  t.teardown(() => meterSide.close());
  const access: KernelAccess = {
    gpio: onoffGpio(kernel.Gpio),
    openI2c: async () => ({ ...fakeAds1115(adc), close: async () => {} }),
    pwmRoot: join(dir, 'pwm'),
    openMeterBus: (settings, unitId) => openMeterBus({ ...settings, path: pair.slavePath }, unitId),
  };
  const board = await createLinuxBoard({ ...file, watchdog: join(dir, 'watchdog'), serialNumberFile: join(dir, 'serial'), rfid: { path: pair.slavePath } }, { config: parseConfig({ dataDir: join(dir, 'data'), modbus: { tcp: null } }), clock: systemClock, log: silentLogger }, access);
  t.equal(board.serialNumber, 'SOM-4711');
  const firmware = new Firmware({ config: parseConfig({ dataDir: join(dir, 'data'), modbus: { tcp: null } }), hal: board.hal, clock: systemClock, log: silentLogger, bootId: 'b' });
  await firmware.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await firmware.stop();
    await board.stop();
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
  t.same([pwm('period'), pwm('duty_cycle'), pwm('enable'), level(pins.cpStateE?.pin ?? -1)], ['1000000', '1000000', '1', 0], 'A: +12 V steady (x1)');
  t.equal(level(pins.contactorCoil.pin), 0);
  car = 'B';
  await until('lock', () => level(pins.lockActuator.pin) === 1);
  t.pass('B: the lock engages');
  car = 'C';
  await until('contactor', () => level(pins.contactorCoil.pin) === 1);
  t.equal(pwm('duty_cycle'), '533333', 'C: 32 A on the pilot (53.3 %)');
  t.equal(firmware.status().contactorClosed, true);
  words.set(0x06, 0x4180).set(0x48, 0x4148); // 16 A on L1, 12.5 → 12.5xx kWh
  await until('meter', () => (firmware.status().meter?.currentsA[0] ?? 0) === 16, 3000);
  t.ok((firmware.status().meter?.energyWh ?? 0) >= 12500, `meter ${firmware.status().meter?.energyWh} Wh`);
  car = 'A';
  await until('open', () => level(pins.contactorCoil.pin) === 0, 1000);
  await until('unlock', () => level(pins.lockActuator.pin) === 0);
  t.same([pwm('duty_cycle'), pwm('enable')], ['1000000', '1'], 'unplugged: x1 again, contactor open, lock released');
  await stop();
  t.same([pwm('enable'), level(pins.cpStateE?.pin ?? -1), level(pins.contactorCoil.pin)], ['0', 0, 0], 'stopped: pilot off, coil off, lines released');
});

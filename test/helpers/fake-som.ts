import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBoardFile } from '../../board/board-file.js';
import { createLinuxBoard, type KernelAccess } from '../../board/linux.js';
import type { Board } from '../../board/board.js';
import somRef from '../../board/som-ref.json' with { type: 'json' };
import { parseConfig } from '../../firmware/config.js';
import { silentLogger } from '../../firmware/log.js';
import { systemClock } from '../../hal/clock.js';
import { onoffGpio } from '../../hal/linux/onoff-gpio.js';
import { openIskraBus } from '../../hal/linux/iskra-wm3m4c-meter.js';
import { openMeterBus } from '../../hal/linux/sdm630-meter.js';
import { fakeAds1115, fakeKernel } from './fake-kernel.js';
import { meterEmulator, meterRegisters } from './meter-emulator.js';
import { startPtyPair } from './socat.js';

export type CarState = 'A' | 'B' | 'C';

/** The reference board (board/som-ref.json) on fakes at the kernel boundary, with a car model and a meter emulator. */
export interface FakeSom {
  readonly board: Board;
  readonly file: ReturnType<typeof parseBoardFile>;
  readonly dataDir: string;
  /** What the car does: A unplugged, B plugged, C asking for power. */
  car: CarState;
  /** A file of the PWM channel in the fake sysfs tree. */
  pwm(name: string): string;
  /** A GPIO pin's physical level. */
  level(pin: number): number | undefined;
  /** Drives an input pin's physical level (the grid operator's contact). */
  drive(pin: number, level: 0 | 1): void;
  /** The meter emulator's input registers (address → word). */
  readonly meterWords: Map<number, number>;
  close(): Promise<void>;
}

/**
 * Builds it in `dir` (a tap testdir): a folder for the sysfs PWM tree, an injected GPIO class
 * whose contactor mirror and lock feedback follow their outputs after 10 ms, an ADS1115 whose CP
 * inputs follow the car model (reading the PWM and the state-E switch) through the board's
 * divider, PP with a 32 A cable once plugged, and an SDM630 emulator over socat.
 */
export async function fakeSom(dir: string): Promise<FakeSom> {
  const file = parseBoardFile(somRef, 'board/som-ref.json');
  const pwm = (name: string): string => readFileSync(join(dir, 'pwm', 'pwmchip0', 'pwm0', name), 'utf8');
  const pins = file.gpio;
  const kernel = fakeKernel(Object.values(pins).map((p) => p.pin));
  const level = (pin: number): number | undefined => kernel.pins.get(pin)?.level;
  kernel.onWrite((pin, value) => {
    if (pin === pins.contactorCoil.pin) setTimeout(() => kernel.drive(pins.contactorMirror.pin, value === 1 ? 0 : 1), 10);
    if (pin === pins.lockActuator.pin) setTimeout(() => kernel.drive(pins.lockFeedback.pin, value), 10);
    // The RCD module trips on its test current and recovers when it ends.
    if (pin === pins.rcdTest.pin) setTimeout(() => kernel.drive(pins.rcdTrip.pin, value), 20);
  });
  kernel.drive(pins.contactorMirror.pin, 1); // active low: open
  kernel.drive(pins.rcdTrip.pin, 0);
  const som = { car: 'A' as CarState };
  const pilotV = (): { high: number; low: number } => {
    if (level(pins.cpStateE?.pin ?? -1) === 1 || pwm('enable') === '0') return { high: 0, low: 0 };
    const duty = Number(pwm('duty_cycle')) / 1_000_000;
    if (duty === 0) return { high: -12, low: -12 };
    const high = som.car === 'A' ? 12 : som.car === 'B' || duty === 1 ? 9 : 6; // a car asks for C only while PWM runs
    return { high, low: duty === 1 ? high : -12 };
  };
  const adc = (channel: number): number => {
    const { cpScale, ppPullUpOhm, ppSupplyV } = file.adc;
    if (channel === file.adc.pp) return som.car === 'A' ? ppSupplyV : (ppSupplyV * 220) / (ppPullUpOhm + 220);
    const v = channel === file.adc.cpHigh ? pilotV().high : pilotV().low;
    return (v - cpScale.offsetV) / cpScale.gain;
  };
  const pair = await startPtyPair();
  const meterWords = meterRegisters({ 0x00: 230, 0x02: 230, 0x04: 230, 0x06: 0, 0x08: 0, 0x0a: 0, 0x34: 0, 0x48: 12.5 });
  const meterSide = await meterEmulator(pair.masterPath, meterWords, file.meter.unitId);
  const access: KernelAccess = {
    gpio: onoffGpio(kernel.Gpio),
    openI2c: async () => ({ ...fakeAds1115(adc), close: async () => {} }),
    pwmRoot: join(dir, 'pwm'),
    openMeterBus: (settings, unitId) => openMeterBus({ ...settings, path: pair.slavePath }, unitId),
    openIskraBus: (settings, unitId) => openIskraBus({ ...settings, path: pair.slavePath }, unitId),
  };
  const dataDir = join(dir, 'data');
  const board = await createLinuxBoard(
    { ...file, watchdog: join(dir, 'watchdog'), serialNumberFile: join(dir, 'serial'), rfid: { path: pair.slavePath } },
    { config: parseConfig({ dataDir, modbus: { tcp: null } }), clock: systemClock, log: silentLogger },
    access,
  );
  return Object.assign(som, {
    board,
    file,
    dataDir,
    pwm,
    level,
    drive: (pin: number, value: 0 | 1) => kernel.drive(pin, value),
    meterWords,
    async close() {
      await board.stop();
      await meterSide.close();
      await pair.close();
    },
  });
}

/** The files `fakeSom` expects in its folder (for `t.testdir`). */
export const FAKE_SOM_FILES = {
  pwm: { pwmchip0: { export: '', pwm0: { period: '0', duty_cycle: '0', polarity: 'normal', enable: '0' } } },
  watchdog: '',
  serial: 'SOM-4711\0',
};

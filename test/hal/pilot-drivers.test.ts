import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Ads1115, type I2cWordBus } from '../../hal/linux/ads1115.js';
import { SysfsPwm } from '../../hal/linux/sysfs-pwm.js';

/**
 * The Control Pilot's kernel-facing drivers with fakes at the kernel boundary: a folder standing
 * in for the sysfs PWM tree, and an I2C bus that behaves like an ADS1115 (config register with
 * the OS bit, conversion register, channel mux, PGA, little-endian SMBus words).
 */

t.test('sysfs PWM: period and polarity at open, duty and enable on output, disable; a missing chip names its path', async (t) => {
  const root = t.testdir({ pwmchip0: { export: '', pwm1: { period: '5', duty_cycle: '9', polarity: 'inversed', enable: '1' } } });
  const read = (name: string): string => readFileSync(join(root, 'pwmchip0', 'pwm1', name), 'utf8');
  const pwm = new SysfsPwm({ root, chip: 0, channel: 1, periodNs: 1_000_000 });
  t.same([read('period'), read('duty_cycle'), read('polarity'), read('enable')], ['1000000', '0', 'normal', '0']);
  pwm.output(266_666.7);
  t.same([read('duty_cycle'), read('enable')], ['266667', '1'], '16 A: 26.7 % of 1 ms');
  pwm.output(1_000_000);
  t.equal(read('duty_cycle'), '1000000');
  pwm.disable();
  t.equal(read('enable'), '0');
  t.throws(() => new SysfsPwm({ root, chip: 3, channel: 0, periodNs: 1_000_000 }), /no .*pwmchip3/);
  t.throws(() => new SysfsPwm({ root, chip: 0, channel: 2, periodNs: 1_000_000 }), /exporting channel 2 .* did not create/);
  t.equal(readFileSync(join(root, 'pwmchip0', 'export'), 'utf8'), '2', 'the export was asked for');
});

/** An ADS1115 on a fake bus: the volts on its four inputs are set by the test. */
function fakeAds1115(inputsV: number[]): I2cWordBus & { conversions: number[] } {
  const swap = (w: number): number => ((w & 0xff) << 8) | ((w >> 8) & 0xff);
  const fullScale = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256];
  let config = 0x8583;
  let conversion = 0;
  let readyAt = 0;
  const conversions: number[] = [];
  return {
    conversions,
    async writeWord(address, register, word) {
      if (address !== 0x48 || register !== 0x01) throw new Error(`unexpected write ${address}/${register}`);
      config = swap(word);
      if ((config & 0x8000) === 0) return;
      const mux = (config >> 12) & 0x7;
      if (mux < 4) throw new Error('only single-ended inputs are wired');
      const channel = mux - 4;
      conversions.push(channel);
      const fs = fullScale[(config >> 9) & 0x7] as number;
      const volts = Math.max(-fs, Math.min(fs, inputsV[channel] as number));
      // The converter saturates at 0x7FFF / 0x8000, as the real one does.
      conversion = Math.max(-0x8000, Math.min(0x7fff, Math.round((volts / fs) * 0x8000))) & 0xffff;
      readyAt = performance.now() + 1.16; // 860 samples/s
      config &= 0x7fff; // busy
    },
    async readWord(address, register) {
      if (address !== 0x48) throw new Error('no device');
      if (register === 0x01) return swap(performance.now() >= readyAt ? config | 0x8000 : config);
      if (performance.now() < readyAt) throw new Error('read before the conversion was done');
      return swap(conversion);
    },
  };
}

t.test('ADS1115: single-shot conversions per channel, PGA scaling, negative inputs', async (t) => {
  const bus = fakeAds1115([3.3, -1.25, 0.5, 4.2]);
  const adc = new Ads1115(bus, { fullScaleV: 4.096 });
  t.ok(Math.abs((await adc.read(0)) - 3.3) < 0.001, 'channel 0: 3.3 V');
  t.ok(Math.abs((await adc.read(1)) + 1.25) < 0.001, 'channel 1: -1.25 V');
  t.ok(Math.abs((await adc.read(3)) - 4.096) < 0.001, 'channel 3 clips at the full scale');
  const fine = new Ads1115(bus, { fullScaleV: 1.024 });
  t.ok(Math.abs((await fine.read(2)) - 0.5) < 0.0001, 'a smaller range resolves finer');
  t.same(bus.conversions, [0, 1, 3, 2]);
  const started = performance.now();
  for (let i = 0; i < 20; i++) await adc.read((i % 2) as 0 | 1);
  const perReadMs = (performance.now() - started) / 20;
  t.ok(perReadMs < 5, `a conversion with its I2C traffic takes ${perReadMs.toFixed(2)} ms here`);
});

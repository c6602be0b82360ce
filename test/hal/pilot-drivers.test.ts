import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Ads1115 } from '../../hal/linux/ads1115.js';
import { AdcSampler } from '../../hal/linux/adc-sampler.js';
import { LinuxControlPilot, LinuxProximityPilot, PILOT_CHANGE_V, PILOT_PERIOD_NS } from '../../hal/linux/control-pilot.js';
import { onoffGpio } from '../../hal/linux/onoff-gpio.js';
import { SysfsPwm } from '../../hal/linux/sysfs-pwm.js';
import { fakeAds1115, fakeKernel } from '../helpers/fake-kernel.js';

/**
 * The Control Pilot's kernel-facing drivers with fakes at the kernel boundary: a folder standing
 * in for the sysfs PWM tree, and an I2C bus that behaves like an ADS1115.
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

t.test('ADS1115: single-shot conversions per channel, PGA scaling, negative inputs', async (t) => {
  const bus = fakeAds1115([3.3, -1.25, 0.5, 4.2]);
  const adc = new Ads1115(bus, { fullScaleV: 4.096 });
  t.ok(Math.abs((await adc.read(0)) - 3.3) < 0.001, 'channel 0: 3.3 V');
  t.ok(Math.abs((await adc.read(1)) + 1.25) < 0.001, 'channel 1: -1.25 V');
  t.ok(Math.abs((await adc.read(3)) - 4.096) < 0.001, 'channel 3 clips at the full scale');
  const fine = new Ads1115(bus, { fullScaleV: 1.024 });
  t.ok(Math.abs((await fine.read(2)) - 0.5) < 0.0001, 'a smaller range resolves finer');
  t.same(bus.conversions, [0, 1, 3, 2]);
  // What the driver waits for, not what this machine's load adds: the delays of the timers it sets.
  const delaysMs: number[] = [];
  const hostSetTimeout = globalThis.setTimeout;
  const counting = (fn: () => void, delayMs?: number): ReturnType<typeof hostSetTimeout> => {
    delaysMs.push(delayMs ?? 0);
    return hostSetTimeout(fn, delayMs);
  };
  Object.assign(globalThis, { setTimeout: counting });
  try {
    for (let i = 0; i < 20; i++) await adc.read((i % 2) as 0 | 1);
  } finally {
    Object.assign(globalThis, { setTimeout: hostSetTimeout });
  }
  const perReadMs = delaysMs.reduce((sum, ms) => sum + ms, 0) / 20;
  t.ok(perReadMs >= 1.16 && perReadMs < 3, `a conversion waits ${perReadMs.toFixed(2)} ms (860 samples/s: 1.16 ms a conversion)`);
});

t.test(
  'Control Pilot and PP on the fakes: duty in the sysfs tree, state E switch, peak voltages and PP resistance from the ADC',
  async (t) => {
    const root = t.testdir({ pwmchip0: { export: '', pwm0: { period: '0', duty_cycle: '0', polarity: 'normal', enable: '0' } } });
    const read = (name: string): string => readFileSync(join(root, 'pwmchip0', 'pwm0', name), 'utf8');
    const kernel = fakeKernel([24]);
    // Divider: pilot −12..+12 V onto 0..4 V at the ADC: pilot = adc × 6 − 12.
    // PP: 330 Ω pull-up to 3.3 V (inside the ADC's 4.096 V range, so an open PP is seen).
    const inputsV = [(9 + 12) / 6, (-12 + 12) / 6, (3.3 * 220) / (330 + 220), 0];
    const sampler = new AdcSampler(new Ads1115(fakeAds1115(inputsV)), { fast: [0, 1], slow: [2], slowEvery: 5 });
    await sampler.start();
    t.teardown(() => sampler.stop());
    const pilot = new LinuxControlPilot({
      pwm: new SysfsPwm({ root, chip: 0, channel: 0, periodNs: PILOT_PERIOD_NS }),
      stateE: onoffGpio(kernel.Gpio).output('CP state E switch', { pin: 24 }),
      sampler,
      highChannel: 0,
      lowChannel: 1,
      scale: { gain: 6, offsetV: -12 },
    });
    t.equal(kernel.pins.get(24)?.level, 1, 'off: pilot at 0 V');
    t.equal(read('enable'), '0');
    pilot.drive({ mode: 'x1' });
    t.same([read('duty_cycle'), read('enable'), kernel.pins.get(24)?.level], ['1000000', '1', 0], 'x1: +12 V steady');
    pilot.drive({ mode: 'pwm', dutyPct: 26.666666 });
    t.equal(read('duty_cycle'), '266667', '16 A');
    pilot.drive({ mode: 'F' });
    t.equal(read('duty_cycle'), '0', 'F: −12 V');
    pilot.drive({ mode: 'E' });
    t.same([read('enable'), kernel.pins.get(24)?.level], ['0', 1], 'E: 0 V');
    const sample = pilot.sample();
    t.ok(
      Math.abs(sample.highV - 9) < 0.01 && Math.abs(sample.lowV + 12) < 0.01,
      `high ${sample.highV.toFixed(2)} V, low ${sample.lowV.toFixed(2)} V: state B, diode present`,
    );
    const pp = new LinuxProximityPilot(sampler, 2, { pullUpOhm: 330, supplyV: 3.3 });
    t.ok(Math.abs(pp.resistanceOhm() - 220) < 1, `PP ${pp.resistanceOhm().toFixed(1)} Ω: a 32 A cable`);
    inputsV[0] = (6 + 12) / 6;
    const rounds = sampler.rounds;
    const started = performance.now();
    while (sampler.rounds < rounds + 10) await new Promise((resolve) => setTimeout(resolve, 1));
    const roundMs = (performance.now() - started) / 10;
    t.ok(Math.abs(pilot.sample().highV - 6) < 0.01, 'the sampler follows the pilot to 6 V (state C)');
    t.ok(roundMs < 20, `one round of both CP channels every ${roundMs.toFixed(1)} ms (the 100 ms rule needs far less)`);
    inputsV[2] = 3.3;
    while (sampler.rounds < rounds + 20) await new Promise((resolve) => setTimeout(resolve, 1));
    t.equal(pp.resistanceOhm(), Number.POSITIVE_INFINITY, 'no cable: PP open');
  },
);

t.test(
  'an ADC that stops answering: the pilot reads NaN (no valid state, so the contactor opens), reported once, and recovers',
  async (t) => {
    const bus = fakeAds1115([3.5, 0, 1, 0]);
    let broken = false;
    const flaky = {
      writeWord: (a: number, r: number, w: number) => (broken ? Promise.reject(new Error('EREMOTEIO')) : bus.writeWord(a, r, w)),
      readWord: (a: number, r: number) => bus.readWord(a, r),
    };
    const sampler = new AdcSampler(new Ads1115(flaky), { fast: [0, 1] });
    const health: Array<string | null> = [];
    sampler.onHealth = (err) => health.push(err?.message ?? null);
    await sampler.start();
    t.ok(Number.isFinite(sampler.volts(0)));
    broken = true;
    const until = async (condition: () => boolean): Promise<void> => {
      const deadline = Date.now() + 2000;
      while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    };
    await until(() => health.length === 1);
    t.ok(Number.isNaN(sampler.volts(0)), 'NaN while failing');
    const rounds = sampler.rounds;
    await until(() => sampler.rounds > rounds + 3);
    t.same(health, ['EREMOTEIO'], 'reported once');
    broken = false;
    await until(() => health.length === 2);
    t.same(health, ['EREMOTEIO', null]);
    t.ok(Number.isFinite(sampler.volts(0)), 'readings again');
    await sampler.stop();
    broken = true;
    await t.rejects(
      new AdcSampler(new Ads1115(flaky), { fast: [0] }).start(),
      /EREMOTEIO/,
      'an ADC that does not answer at start is an error there',
    );
  },
);

t.test(
  'Control Pilot change event: told within one ADC round when a plateau moves by 0.5 V or more, or the reading turns NaN; not for noise',
  async (t) => {
    const root = t.testdir({ pwmchip0: { export: '', pwm0: { period: '0', duty_cycle: '0', polarity: 'normal', enable: '0' } } });
    // Pilot = adc × 6 − 12: state C (6 V high, −12 V low).
    const inputsV = [(6 + 12) / 6, 0, 0, 0];
    let broken = false;
    const bus = fakeAds1115((channel) => inputsV[channel] as number);
    const flaky = {
      writeWord: (a: number, r: number, w: number) => (broken ? Promise.reject(new Error('EREMOTEIO')) : bus.writeWord(a, r, w)),
      readWord: (a: number, r: number) => bus.readWord(a, r),
    };
    const sampler = new AdcSampler(new Ads1115(flaky), { fast: [0, 1] });
    await sampler.start();
    t.teardown(() => sampler.stop());
    const pilot = new LinuxControlPilot({
      pwm: new SysfsPwm({ root, chip: 0, channel: 0, periodNs: PILOT_PERIOD_NS }),
      stateE: null,
      sampler,
      highChannel: 0,
      lowChannel: 1,
      scale: { gain: 6, offsetV: -12 },
    });
    t.equal(PILOT_CHANGE_V, 0.5);
    const told: Array<{ round: number; highV: number }> = [];
    pilot.onChange = () => told.push({ round: sampler.rounds, highV: pilot.sample().highV });
    const rounds = async (n: number): Promise<void> => {
      const target = sampler.rounds + n;
      const deadline = Date.now() + 5000;
      while (sampler.rounds < target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    };
    await rounds(3);
    t.same(told, [], 'a steady line: nothing told');
    inputsV[0] = (6 + 0.49 + 12) / 6;
    await rounds(3);
    t.same(told, [], 'noise of 0.49 V: nothing told');
    inputsV[0] = (9 + 12) / 6; // the car leaves C for B
    const changedAtRound = sampler.rounds;
    await rounds(3);
    t.equal(told.length, 1, 'C → B told once');
    t.ok((told[0]?.round ?? Infinity) <= changedAtRound + 2, `at the end of the round that converted it (round ${told[0]?.round})`);
    t.ok(Math.abs((told[0]?.highV ?? 0) - 9) < 0.01, 'with the new plateau readable');
    broken = true;
    await rounds(2);
    t.equal(told.length, 2, 'conversions failing (NaN) told');
    t.ok(Number.isNaN(told[1]?.highV));
    broken = false;
    await rounds(2);
    t.equal(told.length, 3, 'and working again');
    pilot.close();
    inputsV[0] = (0 + 12) / 6;
    await rounds(2);
    t.equal(told.length, 3, 'a closed driver tells nothing');
  },
);

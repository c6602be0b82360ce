import type { I2cWordBus } from '../../hal/linux/ads1115.js';
import type { OnoffGpioClass } from '../../hal/linux/onoff-gpio.js';

/** Fakes at the kernel boundary for the Linux drivers: sysfs GPIO (as onoff's class) and an ADS1115 on I2C. */

interface Pin {
  direction: string;
  level: 0 | 1;
  activeLow: boolean;
  watchers: Array<(err: Error | null, value: 0 | 1) => void>;
  exported: boolean;
}

/** A fake kernel: `pins` by number (physical levels); `onWrite` plays the hardware behind an output. */
export function fakeKernel(accessible: number[]) {
  const pins = new Map<number, Pin>();
  let onWrite: (pin: number, level: 0 | 1) => void = () => {};
  const logical = (p: Pin): 0 | 1 => (p.level ^ (p.activeLow ? 1 : 0)) as 0 | 1;
  const FakeGpio = class {
    readonly #pin: Pin;
    readonly #number: number;
    constructor(gpio: number, direction: string, _edge?: string, options?: { activeLow?: boolean }) {
      if (!accessible.includes(gpio)) throw new Error('EACCES: permission denied, open /sys/class/gpio/export');
      this.#number = gpio;
      this.#pin = pins.get(gpio) ?? { direction, level: 0, activeLow: options?.activeLow ?? false, watchers: [], exported: true };
      Object.assign(this.#pin, { direction, activeLow: options?.activeLow ?? false, exported: true });
      pins.set(gpio, this.#pin);
    }
    readSync(): 0 | 1 {
      return logical(this.#pin);
    }
    writeSync(value: 0 | 1): void {
      this.#pin.level = (value ^ (this.#pin.activeLow ? 1 : 0)) as 0 | 1;
      onWrite(this.#number, this.#pin.level);
    }
    watch(callback: (err: Error | null, value: 0 | 1) => void): void {
      this.#pin.watchers.push(callback);
    }
    unexport(): void {
      this.#pin.exported = false;
    }
  };
  return {
    Gpio: FakeGpio as unknown as OnoffGpioClass,
    pins,
    /** Sets an input's physical level and fires its edge watchers. */
    drive(pin: number, level: 0 | 1): void {
      const p = pins.get(pin) ?? { direction: 'in', level, activeLow: false, watchers: [], exported: false };
      p.level = level;
      pins.set(pin, p);
      for (const w of p.watchers) w(null, logical(p));
    },
    onWrite(handler: (pin: number, level: 0 | 1) => void): void {
      onWrite = handler;
    },
  };
}

/**
 * An I2C bus with an ADS1115 at 0x48: config register with the OS bit, conversion register,
 * channel mux, PGA, saturation, little-endian SMBus words. `inputsV` (changeable) are its inputs.
 */
export function fakeAds1115(inputsV: number[] | ((channel: number) => number)): I2cWordBus & { conversions: number[] } {
  const input = (channel: number): number => (typeof inputsV === 'function' ? inputsV(channel) : (inputsV[channel] as number));
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
      const volts = Math.max(-fs, Math.min(fs, input(channel)));
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

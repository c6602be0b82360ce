/** The I2C bus as an ADS1115 driver needs it: SMBus word access, async (i2c-bus's promisified bus). */
export interface I2cWordBus {
  writeWord(address: number, register: number, word: number): Promise<void>;
  readWord(address: number, register: number): Promise<number>;
}

const CONVERSION = 0x00;
const CONFIG = 0x01;
/** Start a single conversion; single-shot mode; 860 samples/s; comparator off. */
const START_SINGLE = 0x8000 | 0x0100 | 0x00e0 | 0x0003;
/** Full-scale range per PGA setting (bits 11..9), volts. */
const FULL_SCALE_V = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256] as const;
/** One conversion at 860 samples/s takes 1.16 ms; a little margin before reading. */
const CONVERSION_MS = 1.3;

/** SMBus words are little-endian on the wire; the ADS1115's registers are big-endian. */
const swap = (word: number): number => ((word & 0xff) << 8) | ((word >> 8) & 0xff);

/**
 * A TI ADS1115-class 16-bit I2C ADC, single-ended channels 0..3 in single-shot mode at 860
 * samples/s. `read` starts a conversion on a channel, waits for it, and returns volts.
 */
export class Ads1115 {
  readonly #bus: I2cWordBus;
  readonly #address: number;
  readonly #pga: number;

  constructor(bus: I2cWordBus, options: { readonly address?: number; readonly fullScaleV?: (typeof FULL_SCALE_V)[number] } = {}) {
    this.#bus = bus;
    this.#address = options.address ?? 0x48;
    this.#pga = FULL_SCALE_V.indexOf(options.fullScaleV ?? 4.096);
  }

  async read(channel: 0 | 1 | 2 | 3): Promise<number> {
    const config = START_SINGLE | ((0b100 + channel) << 12) | (this.#pga << 9);
    await this.#bus.writeWord(this.#address, CONFIG, swap(config));
    for (let waited = 0; ; waited++) {
      await new Promise((resolve) => setTimeout(resolve, waited === 0 ? CONVERSION_MS : 0.2));
      if ((swap(await this.#bus.readWord(this.#address, CONFIG)) & 0x8000) !== 0 || waited > 20) break;
    }
    const raw = swap(await this.#bus.readWord(this.#address, CONVERSION));
    const signed = raw >= 0x8000 ? raw - 0x10000 : raw;
    return (signed / 0x8000) * (FULL_SCALE_V[this.#pga] as number);
  }
}

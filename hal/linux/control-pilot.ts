import type { ControlPilot, PilotOutput, PilotSample } from '../control-pilot.js';
import type { GpioLine } from '../gpio.js';
import type { ProximityPilot } from '../proximity-pilot.js';
import type { AdcSampler } from './adc-sampler.js';
import type { SysfsPwm } from './sysfs-pwm.js';

/** 1 kHz (IEC 61851-1): the period in ns. */
export const PILOT_PERIOD_NS = 1_000_000;

/**
 * A plateau that moved this much since the last change told counts as a change (onChange): a sixth
 * of the 3 V between two CP states, well above the peak detector's noise.
 */
export const PILOT_CHANGE_V = 0.5;

/** How ADC volts map to pilot volts through the board's divider: pilot = adc × gain + offset. */
export interface AdcScale {
  readonly gain: number;
  readonly offsetV: number;
}

export interface LinuxControlPilotOptions {
  readonly pwm: SysfsPwm;
  /** The switch that shorts the pilot to 0 V (state E); null when the board has none (then off = PWM disabled). */
  readonly stateE: GpioLine | null;
  readonly sampler: AdcSampler;
  readonly highChannel: 0 | 1 | 2 | 3;
  readonly lowChannel: 0 | 1 | 2 | 3;
  readonly scale: AdcScale;
}

/**
 * The Control Pilot on a Linux board: the ±12 V driver fed by a kernel PWM channel (high = +12 V),
 * a switch to 0 V for state E, and the peak detectors of the pilot's high and low levels on two
 * ADC channels. x1 is a 100 % duty, F (−12 V) a 0 % duty.
 */
export class LinuxControlPilot implements ControlPilot {
  readonly #o: LinuxControlPilotOptions;
  #output: PilotOutput = { mode: 'off' };
  onChange: (() => void) | null = null;
  #told: PilotSample;
  readonly #unsubscribe: () => void;

  constructor(options: LinuxControlPilotOptions) {
    this.#o = options;
    this.drive({ mode: 'off' });
    this.#told = this.sample();
    // Each round of the ADC (about 3 ms): a plateau that moved, or a reading that became valid or
    // invalid (NaN while conversions fail), is told at once.
    this.#unsubscribe = options.sampler.onRound(() => {
      const now = this.sample();
      if (movedV(this.#told.highV, now.highV) || movedV(this.#told.lowV, now.lowV)) {
        this.#told = now;
        this.onChange?.();
      }
    });
  }

  get output(): PilotOutput {
    return this.#output;
  }

  drive(output: PilotOutput): void {
    const { pwm, stateE } = this.#o;
    const zeroVolts = output.mode === 'E' || output.mode === 'off';
    if (zeroVolts) {
      stateE?.write(true);
      pwm.disable();
    } else {
      pwm.output(output.mode === 'pwm' ? (PILOT_PERIOD_NS * output.dutyPct) / 100 : output.mode === 'x1' ? PILOT_PERIOD_NS : 0);
      stateE?.write(false);
    }
    this.#output = output;
  }

  sample(): PilotSample {
    const { sampler, scale } = this.#o;
    const toPilot = (channel: 0 | 1 | 2 | 3): number => sampler.volts(channel) * scale.gain + scale.offsetV;
    return { highV: toPilot(this.#o.highChannel), lowV: toPilot(this.#o.lowChannel) };
  }

  close(): void {
    this.#unsubscribe();
    this.onChange = null;
    this.drive({ mode: 'off' });
    this.#o.stateE?.close();
  }
}

/** `a` → `b` is a change worth telling: by PILOT_CHANGE_V or more, or between a number and NaN. */
function movedV(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) !== Number.isNaN(b);
  return Math.abs(a - b) >= PILOT_CHANGE_V;
}

/**
 * The Proximity Pilot: the cable's resistor against a pull-up to `supplyV`, read on an ADC
 * channel. R = pullUp × V / (supply − V); an open PP (no cable) reads Infinity.
 */
export class LinuxProximityPilot implements ProximityPilot {
  readonly #sampler: AdcSampler;
  readonly #channel: 0 | 1 | 2 | 3;
  readonly #pullUpOhm: number;
  readonly #supplyV: number;

  constructor(sampler: AdcSampler, channel: 0 | 1 | 2 | 3, wiring: { readonly pullUpOhm: number; readonly supplyV: number }) {
    this.#sampler = sampler;
    this.#channel = channel;
    this.#pullUpOhm = wiring.pullUpOhm;
    this.#supplyV = wiring.supplyV;
  }

  resistanceOhm(): number {
    const volts = this.#sampler.volts(this.#channel);
    if (!(volts < this.#supplyV * 0.98)) return Number.POSITIVE_INFINITY;
    return (this.#pullUpOhm * Math.max(0, volts)) / (this.#supplyV - volts);
  }

  close(): void {}
}

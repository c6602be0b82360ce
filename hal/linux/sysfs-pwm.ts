import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One channel of the kernel PWM class (`/sys/class/pwm/pwmchipN/pwmM`): period, duty_cycle,
 * polarity and enable, in nanoseconds. Writes are synchronous and small: the control loop drives
 * the pilot from its pass and must know the write went through.
 */
export class SysfsPwm {
  readonly #dir: string;
  #enabled = false;

  /** Exports the channel if needed and sets the period; a missing chip is an error naming the path. */
  constructor(options: { readonly root?: string; readonly chip: number; readonly channel: number; readonly periodNs: number }) {
    const chipDir = join(options.root ?? '/sys/class/pwm', `pwmchip${options.chip}`);
    if (!existsSync(chipDir)) throw new Error(`PWM: no ${chipDir} (is the PWM overlay enabled?)`);
    this.#dir = join(chipDir, `pwm${options.channel}`);
    if (!existsSync(this.#dir)) writeFileSync(join(chipDir, 'export'), String(options.channel));
    if (!existsSync(this.#dir)) throw new Error(`PWM: exporting channel ${options.channel} of ${chipDir} did not create ${this.#dir}`);
    this.#write('enable', '0');
    // The duty must never exceed the period, whatever the channel held before.
    this.#write('duty_cycle', '0');
    this.#write('period', String(options.periodNs));
    this.#write('polarity', 'normal');
  }

  /** Duty in ns; enables the output. */
  output(dutyNs: number): void {
    this.#write('duty_cycle', String(Math.round(dutyNs)));
    if (!this.#enabled) this.#write('enable', '1');
    this.#enabled = true;
  }

  disable(): void {
    this.#write('enable', '0');
    this.#enabled = false;
  }

  #write(name: string, value: string): void {
    writeFileSync(join(this.#dir, name), value);
  }
}

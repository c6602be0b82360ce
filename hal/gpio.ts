/**
 * One GPIO line in logical terms (active = true), whatever the pin's polarity: what the relay,
 * lock and fault drivers use, so a libgpiod backend can replace the sysfs one (`onoff`) on
 * kernels without sysfs GPIO.
 */
export interface GpioLine {
  read(): boolean;
  write(active: boolean): void;
  /** Called with the new level after each edge (inputs opened with edges), debounced. */
  onEdge(listener: (active: boolean) => void): void;
  close(): void;
}

/** A pin as a board file names it. */
export interface GpioPin {
  readonly pin: number;
  /** The signal is active when the pin is low. */
  readonly activeLow?: boolean;
}

export interface GpioInputOptions {
  /** Watch edges (interrupts) instead of only reading on demand. */
  readonly edges?: boolean;
  readonly debounceMs?: number;
}

/** Opens lines; `name` is what a start-up error names ("contactor coil (GPIO 17): …"). */
export interface GpioBackend {
  output(name: string, pin: GpioPin): GpioLine;
  input(name: string, pin: GpioPin, options?: GpioInputOptions): GpioLine;
}

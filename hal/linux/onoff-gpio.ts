import type { Gpio } from 'onoff';
import type { GpioBackend, GpioInputOptions, GpioLine, GpioPin } from '../gpio.js';

/** The part of onoff's `Gpio` class the backend uses (a test can hand in a fake of it). */
export type OnoffGpioClass = new (
  gpio: number,
  direction: 'in' | 'out' | 'high' | 'low',
  edge?: 'none' | 'rising' | 'falling' | 'both',
  options?: { debounceTimeout?: number; activeLow?: boolean },
) => Pick<Gpio, 'readSync' | 'writeSync' | 'watch' | 'unexport'>;

/**
 * GPIO through the kernel's sysfs interface (`onoff`). A pin that is missing or not accessible
 * is an error at start naming the signal and the pin, not a crash later. Outputs start inactive.
 */
export function onoffGpio(GpioClass: OnoffGpioClass): GpioBackend {
  const open = (name: string, pin: GpioPin, direction: 'in' | 'out', options: GpioInputOptions = {}): GpioLine => {
    let gpio: InstanceType<OnoffGpioClass>;
    try {
      gpio = new GpioClass(pin.pin, direction, options.edges ? 'both' : 'none', {
        activeLow: pin.activeLow ?? false,
        ...(options.debounceMs !== undefined && { debounceTimeout: options.debounceMs }),
      });
      if (direction === 'out') gpio.writeSync(0);
    } catch (err) {
      throw new Error(`${name} (GPIO ${pin.pin}): ${(err as Error).message}`);
    }
    return {
      read: () => gpio.readSync() === 1,
      write: (active) => gpio.writeSync(active ? 1 : 0),
      onEdge: (listener) => gpio.watch((err, value) => (err ? undefined : listener(value === 1))),
      close: () => {
        if (direction === 'out') gpio.writeSync(0);
        gpio.unexport();
      },
    };
  };
  return {
    output: (name, pin) => open(name, pin, 'out'),
    input: (name, pin, options) => open(name, pin, 'in', options),
  };
}

/** The backend on the real sysfs GPIO; onoff (and its native epoll) is loaded only on a Linux board. */
export async function loadOnoffGpio(): Promise<GpioBackend> {
  const { Gpio } = await import('onoff');
  return onoffGpio(Gpio);
}

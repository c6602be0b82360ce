import type { I2cWordBus } from './ads1115.js';

/** `/dev/i2c-N` through `i2c-bus` (async: transfers run off the event loop); an error names the bus. */
export async function openI2cBus(busNumber: number): Promise<I2cWordBus & { close(): Promise<void> }> {
  try {
    // Loaded here: only a Linux board needs the native i2c-bus addon.
    const { openPromisified } = await import('i2c-bus');
    const bus = await openPromisified(busNumber);
    return {
      writeWord: (address, register, word) => bus.writeWord(address, register, word),
      readWord: (address, register) => bus.readWord(address, register),
      close: () => bus.close(),
    };
  } catch (err) {
    throw new Error(`I2C bus ${busNumber} (/dev/i2c-${busNumber}): ${(err as Error).message}`);
  }
}

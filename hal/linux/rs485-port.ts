import { SerialPort } from 'serialport';
import type { Rs485Port, Rs485Settings } from '../rs485-port.js';

/**
 * An RS-485 port on a Linux tty through `serialport`. The transceiver's direction is switched by
 * the kernel's RS-485 mode (set up by the board's device tree), so this driver only moves bytes.
 */
export class SerialRs485Port implements Rs485Port {
  onData: ((bytes: Buffer) => void) | null = null;
  #settings: Rs485Settings;
  #port: SerialPort;

  constructor(settings: Rs485Settings) {
    this.#settings = settings;
    this.#port = this.#portOn(settings);
  }

  get settings(): Rs485Settings {
    return this.#settings;
  }

  async open(settings: Rs485Settings = this.#settings): Promise<void> {
    const port = settings === this.#settings ? this.#port : this.#portOn(settings);
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(new Error(`RS-485: cannot open ${settings.path}: ${err.message}`)) : resolve())),
    );
    this.#settings = settings;
    this.#port = port;
  }

  #portOn(settings: Rs485Settings): SerialPort {
    const port = new SerialPort({ ...settings, autoOpen: false });
    port.on('data', (chunk: Buffer) => this.onData?.(chunk));
    return port;
  }

  write(bytes: Buffer): void {
    this.#port.write(bytes);
  }

  close(): Promise<void> {
    if (!this.#port.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.#port.close(() => resolve()));
  }
}

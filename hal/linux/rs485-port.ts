import { SerialPort } from 'serialport';
import type { Rs485Port, Rs485Settings } from '../rs485-port.js';

/**
 * An RS-485 port on a Linux tty through `serialport`. The transceiver's direction is switched by
 * the kernel's RS-485 mode (set up by the board's device tree), so this driver only moves bytes.
 */
export class SerialRs485Port implements Rs485Port {
  readonly settings: Rs485Settings;
  onData: ((bytes: Buffer) => void) | null = null;
  readonly #port: SerialPort;

  constructor(settings: Rs485Settings) {
    this.settings = settings;
    this.#port = new SerialPort({ ...settings, autoOpen: false });
    this.#port.on('data', (chunk: Buffer) => this.onData?.(chunk));
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#port.open((err) => (err ? reject(new Error(`RS-485: cannot open ${this.settings.path}: ${err.message}`)) : resolve())),
    );
  }

  write(bytes: Buffer): void {
    this.#port.write(bytes);
  }

  close(): Promise<void> {
    if (!this.#port.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.#port.close(() => resolve()));
  }
}

/** Line settings of the RS-485 port (CONTRACT §2 `modbus.rtu`). */
export interface Rs485Settings {
  readonly path: string;
  readonly baudRate: number;
  readonly parity: 'none' | 'even' | 'odd';
  readonly dataBits: 7 | 8;
  readonly stopBits: 1 | 2;
}

/** The RS-485 transceiver: bytes in and out; the driver handles the direction of the half-duplex line. */
export interface Rs485Port {
  /** The line settings in use (those it was made with until `open` is given others). */
  readonly settings: Rs485Settings;
  /** Called with every chunk of bytes received. */
  onData: ((bytes: Buffer) => void) | null;
  /** Opens the line; with `settings`, on those instead (the config file's device when the run-time one fails to open). */
  open(settings?: Rs485Settings): Promise<void>;
  write(bytes: Buffer): void;
  close(): Promise<void>;
}

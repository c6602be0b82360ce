import type { Clock } from '../hal/clock.js';
import type { Hal } from '../hal/hal.js';
import type { Config } from '../firmware/config.js';
import type { Logger } from '../firmware/log.js';

export interface BoardContext {
  readonly config: Config;
  readonly clock: Clock;
  readonly log: Logger;
}

/** One implementation of every HAL interface, plus whatever the board serves on the side. */
export interface Board {
  readonly name: string;
  readonly hal: Hal;
  /** The unit's serial number (Modbus 8008). */
  readonly serialNumber: string;
  /** Whether the OS reports the system clock synchronised (NTP); then it is the time source, not the central system (CONTRACT §5). */
  clockSynced(): boolean;
  /** Starts the board's own services (the simulator's control API). */
  start(): Promise<void>;
  /** Stops them and releases the hardware: relays open, pilot off. */
  stop(): Promise<void>;
}

export type BoardFactory = (context: BoardContext) => Promise<Board>;

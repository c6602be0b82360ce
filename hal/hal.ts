import type { ConnectorLock } from './connector-lock.js';
import type { Contactor } from './contactor.js';
import type { ControlPilot } from './control-pilot.js';
import type { FaultInputs } from './fault-inputs.js';
import type { GridContact } from './grid-contact.js';
import type { Meter } from './meter.js';
import type { PhaseRelay } from './phase-relay.js';
import type { ProximityPilot } from './proximity-pilot.js';
import type { RfidReader } from './rfid-reader.js';
import type { Rs485Port } from './rs485-port.js';
import type { Watchdog } from './watchdog.js';

/** One implementation of every piece of hardware, as a board provides them. */
export interface Hal {
  readonly pilot: ControlPilot;
  readonly proximity: ProximityPilot;
  readonly contactor: Contactor;
  readonly phaseRelay: PhaseRelay;
  readonly lock: ConnectorLock;
  readonly meter: Meter;
  readonly rfid: RfidReader;
  readonly faults: FaultInputs;
  /** The grid operator's control contact (§14a EnWG); null when the board has none wired. */
  readonly gridContact: GridContact | null;
  readonly watchdog: Watchdog;
  /** The RS-485 port for the Modbus RTU slave; null when `modbus.rtu` is not configured. */
  readonly rs485: Rs485Port | null;
}

/** Releases every device of `hal` (a board's stop, a test's end); the watchdog last but the serial port, so it is fed until the outputs are released. */
export async function closeHal(hal: Hal): Promise<void> {
  for (const device of [
    hal.pilot,
    hal.contactor,
    hal.phaseRelay,
    hal.proximity,
    hal.lock,
    hal.meter,
    hal.rfid,
    hal.faults,
    hal.gridContact,
  ])
    device?.close();
  hal.watchdog.close();
  await hal.rs485?.close();
}

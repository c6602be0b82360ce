import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeHal } from '../hal/hal.js';
import { createSimHal } from '../hal/sim/peripherals.js';
import { SimPlant } from '../hal/sim/plant.js';
import { SimSigningMeter } from '../hal/sim/signing-meter.js';
import { isJsonObject, readStoredJson, saveFile } from '../firmware/store/atomic-file.js';
import type { Board, BoardContext } from './board.js';
import { SimControlApi } from './sim-control-api.js';

/**
 * The default board: simulated hardware and a virtual car, played through the control API of
 * CONTRACT §7. The meter's total is kept in `dataDir` like a real meter keeps it.
 */
export async function createSimBoard({ config, clock, log }: BoardContext): Promise<Board> {
  const meterFile = join(config.dataDir, 'sim-meter.json');
  const { energyWh } = await readStoredJson(meterFile, { energyWh: 0 }, isMeterFile, log);
  const plant = new SimPlant({
    clock,
    wiredPhases: config.evse.phases,
    voltageV: config.evse.voltageV,
    energyWh,
    keepEnergy: (wh) => keepMeterFile(meterFile, wh),
  });
  const signing = config.sim.signedMeter ? await SimSigningMeter.open(plant, config.dataDir) : undefined;
  // serialport is loaded only for a box with Modbus RTU (a third of the sim's start-up otherwise, issue #21).
  const rs485 = config.modbus.rtu ? new (await import('../hal/linux/rs485-port.js')).SerialRs485Port(config.modbus.rtu) : null;
  const hal = createSimHal(plant, rs485, signing);
  const publicKeyPem = signing ? (await signing.identity()).publicKeyPem : null;
  const api = new SimControlApi({
    plant,
    rfid: hal.rfid,
    log: log.child({ module: 'sim' }),
    publicKeyPem,
    gridActiveWhen: config.grid?.activeWhen ?? 'closed',
    clock,
  });
  return {
    name: 'sim',
    hal,
    serialNumber: 'SIM-000001',
    clockSynced: () => config.sim.clockSynced,
    start: () => api.listen('127.0.0.1', config.sim.controlPort),
    async stop() {
      await api.close();
      await closeHal(hal);
      await saveFile(meterFile, JSON.stringify({ energyWh: plant.meterReading().energyWh }), log);
    },
  };
}

/**
 * The simulated meter's register on disk, as a real meter keeps it: synchronously (a kill between
 * two Wh must not lose the last one) and by rename (never torn). No fsync: it models the meter's
 * own memory, not the controller's flash. A disk that refuses only loses the simulation's total.
 */
function keepMeterFile(path: string, energyWh: number): void {
  try {
    writeFileSync(`${path}.tmp`, JSON.stringify({ energyWh }));
    renameSync(`${path}.tmp`, path);
  } catch {
    // the firmware reports its own storage trouble; the simulated meter just keeps counting
  }
}

function isMeterFile(stored: unknown): stored is { energyWh: number } {
  return isJsonObject<{ energyWh: unknown }>(stored) && typeof stored.energyWh === 'number' && stored.energyWh >= 0;
}

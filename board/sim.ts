import { join } from 'node:path';
import { createSimHal } from '../hal/sim/peripherals.js';
import { SimPlant } from '../hal/sim/plant.js';
import { readJsonFile, writeFileAtomic } from '../firmware/store/atomic-file.js';
import type { Board, BoardContext } from './board.js';
import { SimControlApi } from './sim-control-api.js';

/**
 * The default board: simulated hardware and a virtual car, played through the control API of
 * CONTRACT §7. The meter's total is kept in `dataDir` like a real meter keeps it.
 */
export async function createSimBoard({ config, clock, log }: BoardContext): Promise<Board> {
  const meterFile = join(config.dataDir, 'sim-meter.json');
  const { energyWh } = await readJsonFile(meterFile, { energyWh: 0 });
  const plant = new SimPlant({ clock, wiredPhases: config.evse.phases, voltageV: config.evse.voltageV, energyWh });
  const hal = createSimHal(plant);
  const api = new SimControlApi({ plant, rfid: hal.rfid, log: log.child({ module: 'sim' }) });
  return {
    name: 'sim',
    hal,
    start: () => api.listen('127.0.0.1', config.sim.controlPort),
    async stop() {
      await api.close();
      for (const device of Object.values(hal)) device.close();
      await writeFileAtomic(meterFile, JSON.stringify({ energyWh: plant.meterReading().energyWh }));
    },
  };
}

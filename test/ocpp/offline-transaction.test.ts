import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseConfig } from '../../firmware/config.js';
import { Firmware } from '../../firmware/firmware.js';
import { silentLogger } from '../../firmware/log.js';
import { createSimHal } from '../../hal/sim/peripherals.js';
import { SimPlant } from '../../hal/sim/plant.js';
import { SimulatedClock } from '../../hal/sim/simulated-clock.js';
import { startCentralSystem } from '../helpers/central-system.js';
import { audit, keepLedger } from '../helpers/ledger.js';
import { freePort, sleep } from '../helpers/ocpp-scenario.js';
import { ramDir } from '../helpers/ram-dir.js';

/**
 * The backend down for a whole transaction of 1,000 meter values (2 h 47 min at one value every
 * 10 s): the firmware core on the simulated board and a simulated clock, so hours pass in
 * seconds, with real WebSockets to ocpp-rpc's strict central system once it comes up.
 */

const METER_VALUES = 1000;
const SAMPLE_S = 10;

t.test(
  `the backend down for a whole transaction with ${METER_VALUES} meter values: all delivered in order after it comes back`,
  async (t) => {
    // In memory: the queue keeps ~2,000 records and confirmations, each synced before the next
    // message; what is checked here is delivery and order, not the medium (durability*.test.ts).
    const dataDir = ramDir(t);
    writeFileSync(join(dataDir, 'ocpp-configuration.json'), JSON.stringify({ MeterValueSampleInterval: String(SAMPLE_S) }));
    const port = await freePort();
    const clock = new SimulatedClock();
    const plant = new SimPlant({ clock, wiredPhases: 3, voltageV: 230 });
    const config = parseConfig({
      dataDir,
      modbus: { tcp: null },
      ocpp: { url: `ws://127.0.0.1:${port}/ocpp`, chargeBoxId: 'box-offline', password: '', fixedIdTag: 'FIXED' },
    });
    const firmware = new Firmware({ config, hal: createSimHal(plant), clock, log: silentLogger, tickMs: 100, bootId: 'boot-1' });
    await firmware.start();
    /** Lets simulated time pass in steps with real I/O (sockets, disk) in between, until `done`. */
    const pace = async (done: () => boolean, stepMs: number, realLimitMs: number): Promise<void> => {
      const deadline = Date.now() + realLimitMs;
      while (!done()) {
        if (Date.now() > deadline) throw new Error('not reached in time');
        clock.advance(stepMs);
        await sleep(1);
      }
    };
    plant.configureEv({ state: 'C' });
    await pace(() => plant.contactorCommanded, 100, 20_000);
    t.pass('charging offline with the fixed idTag');
    const queue = () => firmware.chargePoint?.queueState.queued ?? 0;
    await pace(() => queue() >= METER_VALUES + 1, SAMPLE_S * 1000, 60_000);
    plant.configureEv({ state: 'A' });
    await pace(() => queue() === METER_VALUES + 2, 100, 10_000);
    t.equal(queue(), METER_VALUES + 2, 'StartTransaction, 1,000 MeterValues and StopTransaction queued');

    const cs = await startCentralSystem({ port });
    t.teardown(() => cs.close());
    const ledger = keepLedger(cs);
    await pace(() => ledger.some((e) => e.action === 'StopTransaction') && queue() === 0, 100, 60_000);
    const result = audit(ledger);
    t.same(result.violations, [], 'in order, with the transactionId, meter never backwards');
    t.equal(result.meterValues, METER_VALUES);
    t.equal(result.transactions, 1);
    t.equal(result.lost, 0);
    t.equal(result.duplicated, 0);
    t.equal(queue(), 0);
    t.comment(
      `offline transaction: received ${result.received}, sent ${result.sent}, duplicated ${result.duplicated}, lost ${result.lost}`,
    );
    let stopped = false;
    const stopping = firmware.stop().then(() => (stopped = true));
    await pace(() => stopped, 100, 10_000);
    await stopping;
  },
);

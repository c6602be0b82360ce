// Fleet simulator: N simulated wallboxes (the real firmware core on the sim board) in one
// process against one central system, for load tests of a backend and for `npm run bench`.
//
//   node dist/tools/fleet.mjs --url ws://host:port/path --count 1000 [--prefix fleet-]
//        [--sample-s 60] [--data DIR] [--tick-ms 100]
//
// Each box boots, plugs a car in after a random pause, charges with the fixed idTag FLEET and
// sends MeterValues every --sample-s; heartbeats follow the central system's interval. A JSON
// line every 5 s tells how many are online and charging and the process memory. SIGTERM stops
// every box cleanly (StopTransaction Reboot).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../hal/clock.js';
import { createSimHal } from '../hal/sim/peripherals.js';
import { SimPlant } from '../hal/sim/plant.js';
import { parseConfig } from '../firmware/config.js';
import { Firmware } from '../firmware/firmware.js';
import { createLogger } from '../firmware/log.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    count: { type: 'string', default: '100' },
    prefix: { type: 'string', default: 'fleet-' },
    'sample-s': { type: 'string', default: '60' },
    data: { type: 'string', default: './fleet-data' },
    // The control loop of a simulated car need not run at the 5 ms of real hardware: at 100 ms a
    // thousand boxes fit on two cores, and the OCPP side (what a backend sees) is unchanged.
    'tick-ms': { type: 'string', default: '100' },
  },
});
if (values.url === undefined) {
  process.stderr.write('usage: fleet --url ws://host:port/path [--count N] [--prefix P] [--sample-s S] [--data DIR] [--tick-ms MS]\n');
  process.exit(2);
}

const log = createLogger({ level: 'error' });
const count = Number(values.count);
const tickMs = Number(values['tick-ms']);
const rssMb = (): number => Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;
const report = (fields: Record<string, unknown>): void =>
  void process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);

interface Box {
  readonly firmware: Firmware;
  readonly plant: SimPlant;
}

function createBox(index: number): Box {
  const chargeBoxId = `${values.prefix}${index}`;
  const dataDir = join(values.data as string, chargeBoxId);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'ocpp-configuration.json'), JSON.stringify({ MeterValueSampleInterval: values['sample-s'] }));
  const config = parseConfig({
    dataDir,
    modbus: { tcp: null },
    ocpp: { url: values.url, chargeBoxId, password: '', fixedIdTag: 'FLEET' },
  });
  const plant = new SimPlant({ clock: systemClock, wiredPhases: config.evse.phases, voltageV: config.evse.voltageV });
  const firmware = new Firmware({ config, hal: createSimHal(plant, null), clock: systemClock, log, tickMs, bootId: 'fleet' });
  return { firmware, plant };
}

const boxes: Box[] = [];
report({ event: 'starting', count, rssMb: rssMb() });
const baselineMb = rssMb();
// Started in small groups: a backend must not see a thousand handshakes in the same millisecond.
for (let i = 0; i < count; i++) {
  const box = createBox(i + 1);
  boxes.push(box);
  await box.firmware.start();
  setTimeout(() => box.plant.configureEv({ state: 'C' }), 1000 + Math.random() * 10_000).unref();
  if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 50));
}
/** Memory the boxes added, per box. */
const perBoxKb = (): number => (count > 0 ? Math.round(((rssMb() - baselineMb) * 1024) / count) : 0);
report({ event: 'started', count, rssMb: rssMb(), perBoxKb: perBoxKb() });

const status = setInterval(() => {
  const online = boxes.filter((b) => b.firmware.chargePoint?.online).length;
  const charging = boxes.filter((b) => b.plant.contactorCommanded).length;
  report({ event: 'status', count, online, charging, rssMb: rssMb(), perBoxKb: perBoxKb() });
}, 5000);

process.once('SIGTERM', () => {
  clearInterval(status);
  void Promise.all(boxes.map((b) => b.firmware.stop())).then(() => {
    report({ event: 'stopped', count });
    process.exit(0);
  });
});

import { join } from 'node:path';
import t from 'tap';
import { startCentralSystem } from '../helpers/central-system.js';
import { startLoggedProcess, toolBundle } from '../helpers/firmware-process.js';

/**
 * The fleet simulator (`dist/tools/fleet.mjs`) against the strict central system: its boxes are
 * the firmware core, so what a backend sees of them must be valid OCPP and the boxes must stop
 * cleanly; a process, because the tool is one (its worker threads, its status lines, SIGTERM).
 */

t.test(
  'three boxes on two threads boot, charge with FLEET and report; SIGTERM ends each transaction (Reboot)',
  { timeout: 60_000 },
  async (t) => {
    const cs = await startCentralSystem();
    t.teardown(() => cs.close());
    const dir = t.testdir();
    const args = ['--url', cs.url, '--count', '3', '--threads', '2', '--sample-s', '1', '--data', join(dir, 'data')];
    const fleet = startLoggedProcess(toolBundle('fleet'), args, dir);
    t.teardown(() => fleet.kill());

    // Each car plugs in 1 to 11 s after its box started; a status line comes every 5 s.
    const status = await fleet.waitForLog((l) => l['event'] === 'status' && l['online'] === 3 && l['charging'] === 3, 30_000);
    t.ok(Number(status['rssMb']) > 0 && Number(status['perBoxKb']) > 0, 'memory in the status line');
    t.ok(Number(status['heapUsedMb']) > 0 && Number(status['heapUsedMb']) <= Number(status['heapMb']), 'the workers’ heaps: in use ≤ held');
    t.same(cs.connections.map((c) => c.identity).sort(), ['fleet-1', 'fleet-2', 'fleet-3'], 'one connection a box, named by --prefix');
    const starts = cs.calls.filter((c) => c.action === 'StartTransaction');
    t.same(
      starts.map((c) => c.params['idTag']),
      ['FLEET', 'FLEET', 'FLEET'],
    );
    await cs.waitForCall('MeterValues', (p) => p['transactionId'] !== undefined);

    t.equal(await fleet.stop(), 0, 'SIGTERM: a clean exit');
    t.ok(
      fleet.logs.some((l) => l['event'] === 'stopped'),
      'the last line: stopped',
    );
    const stops = cs.calls.filter((c) => c.action === 'StopTransaction');
    t.same(
      stops.map((c) => c.params['reason']),
      ['Reboot', 'Reboot', 'Reboot'],
      'every transaction ended before the process did',
    );
  },
);

import t from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { pollUntil, startBox, type RunningBox } from '../helpers/firmware-process.js';
import { pick, prng } from '../helpers/prng.js';

/** 1,000 malformed frames from the central system; afterwards the charge point still works. */

let cs: CentralSystem;
let box: RunningBox;
t.before(async () => {
  cs = await startCentralSystem();
  box = await startBox(t.testdir({}), { ocpp: { url: cs.url, chargeBoxId: 'box-1', fixedIdTag: 'FIXED01' } });
  await cs.waitForCall('StatusNotification', (p) => p['connectorId'] === 1);
});
t.teardown(async () => {
  await box?.fw.kill();
  await cs?.close();
});

function malformedFrame(random: () => number, i: number): string {
  const id = `fuzz-${i}`;
  const junk = () => Math.floor(random() * 1e6).toString(36);
  const shapes = [
    () => junk(),
    () => `[2, "${id}", "Reset", {"type": "Soft"`,
    () => JSON.stringify({ messageTypeId: 2, id }),
    () => JSON.stringify([2]),
    () => JSON.stringify([2, id]),
    () => JSON.stringify([2, id, 'ChangeAvailability']),
    () => JSON.stringify([2, id, 42, {}]),
    () => JSON.stringify([2, id, 'NoSuchAction', {}]),
    () => JSON.stringify([2, id, 'ChangeAvailability', { connectorId: 'one', type: 'Inoperative' }]),
    () => JSON.stringify([2, id, 'ChangeAvailability', { connectorId: 1 }]),
    () => JSON.stringify([2, id, 'ChangeAvailability', { connectorId: 1, type: 'Inoperative', extra: true }]),
    () => JSON.stringify([2, id, 'RemoteStartTransaction', { idTag: 'X'.repeat(21) }]),
    () => JSON.stringify([2, id, 'Reset', { type: 'Sideways' }]),
    () => JSON.stringify([2, id, 'SendLocalList', { listVersion: 'new', updateType: 'Full' }]),
    () => JSON.stringify([2, id, 'GetConfiguration', []]),
    () => JSON.stringify([3, id, { status: 'Accepted' }]),
    () => JSON.stringify([4, id, 'GenericError', 'nothing', {}]),
    () => JSON.stringify([7, id, {}]),
    () => JSON.stringify(null),
    () => JSON.stringify([2, id, 'ChangeConfiguration', { key: 5, value: 'x' }]),
  ];
  return pick(random, shapes)();
}

t.test('after 1,000 malformed frames the charge point still answers and still charges', async (t) => {
  const random = prng(7);
  for (let i = 0; i < 1000; i++) cs.sendRaw(malformedFrame(random, i));
  const answer = await cs.call('GetConfiguration', { key: ['HeartbeatInterval'] });
  t.same(answer.configurationKey, [{ key: 'HeartbeatInterval', readonly: false, value: '300' }], 'a correct call is answered correctly');
  t.equal(box.fw.child.exitCode, null, 'the firmware is still running');
  const sim = await box.sim();
  t.equal(sim['relayClosed'], false, 'nothing was started or changed by the frames');
  t.same(await cs.call('GetConfiguration', { key: ['NumberOfConnectors'] }), {
    configurationKey: [{ key: 'NumberOfConnectors', readonly: true, value: '1' }],
  });
  const from = cs.calls.length;
  await box.simPost('/sim/ev', { state: 'C' });
  await cs.waitForCall('StartTransaction', () => true, { from });
  await pollUntil(box.sim, (s) => s['relayClosed'] === true);
  t.notOk(
    box.fw.logs.some((l) => l['level'] === 'error'),
    'no error logged',
  );
  t.equal(
    await cs.call('ChangeAvailability', { connectorId: 1, type: 'Operative' }).then((r: { status: string }) => r.status),
    'Accepted',
    'availability untouched by the frames',
  );
});

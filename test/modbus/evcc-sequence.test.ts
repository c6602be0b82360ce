import t from 'tap';
import { boxRig, type BoxRig } from '../helpers/box-rig.js';
import { pymodbusMaster, type PyMaster } from '../helpers/pymodbus.js';

/**
 * The exact register traffic of evcc's `cfos` charger driver, replayed by an independent master
 * (pymodbus, a separate process) against the box in-process on the sim board and the simulated
 * clock (box-rig.ts): the start-up
 * reads, the poll, and the commands, all FC06. The simulated car must see every new current, and
 * what is read back must match the simulated meter.
 */

const u32 = (w: number[]) => (((w[0] ?? 0) << 16) >>> 0) + (w[1] ?? 0);
const u64 = (w: number[]) => w.reduce((acc, word) => acc * 65536 + word, 0);

let box: BoxRig;
let evcc: PyMaster;
t.before(async () => {
  box = await boxRig(t.testdir({}), { evse: { minOffS: 1, phaseSwitching: { enabled: true, minIntervalS: 0, pauseS: 1 } } });
  evcc = await pymodbusMaster(['tcp', '127.0.0.1', Number(box.modbusPort)]);
});
t.teardown(async () => {
  try {
    await evcc?.close();
  } finally {
    await box?.close();
  }
});

const write = async (address: number, value: number) => {
  const answer = await evcc.request({ op: 'write', address, value });
  if (!answer.ok) throw new Error(`write ${address} = ${value}: ${JSON.stringify(answer)}`);
};

/** evcc's poll: status, enabled, power, energy, currents, identification. */
async function poll() {
  const status = (await evcc.read(8092, 1))[0]! & 0xff;
  const enabled = ((await evcc.read(8094, 1))[0]! & 0xff) === 1;
  const powerW = u32(await evcc.read(8062, 2)) | 0;
  const energyWh = u64(await evcc.read(8058, 4));
  const c = await evcc.read(8064, 6);
  const currentsA = [u32(c.slice(0, 2)) / 10, u32(c.slice(2, 4)) / 10, u32(c.slice(4, 6)) / 10];
  const idTag = Buffer.from((await evcc.read(8096, 15)).flatMap((w) => [w >> 8, w & 0xff]))
    .toString('latin1')
    .replace(/\0+$/, '');
  return { status, enabled, powerW, energyWh, currentsA, idTag };
}

t.test('start-up reads: a meter with per-phase currents, and phase switching', async (t) => {
  t.not((await evcc.read(8112, 1))[0], 0, '8112: meter attached');
  t.not((await evcc.read(8057, 1))[0], 0, '8057: per-phase currents');
  t.equal(((await evcc.read(8113, 1))[0] ?? 0) & 0x100, 0x100, '8113 bit 8: 1p3p');
});

t.test('the poll while charging matches the simulated meter', async (t) => {
  await box.simPost('/sim/ev', { state: 'C', maxCurrentA: 32 });
  await box.pace(() => box.snapshot()['relayClosed'] === true && box.snapshot()['meter'].powerW > 0);
  await box.advance(1000); // some energy on the meter
  const before = box.snapshot();
  const p = await poll();
  const after = box.snapshot();
  t.equal(p.status, 2, 'C');
  t.equal(p.enabled, true);
  t.equal(p.powerW, before['meter'].powerW, 'power');
  t.same(p.currentsA, before['meter'].currentsA, 'currents');
  t.ok(
    p.energyWh >= Math.round(before['meter'].energyWh) && p.energyWh <= Math.max(1, Math.round(after['meter'].energyWh)),
    `energy ${p.energyWh} Wh between ${before['meter'].energyWh} and ${after['meter'].energyWh}`,
  );
  t.equal(p.idTag, '', 'no transaction idTag without OCPP');
});

t.test('8093 = A × 10 reaches the car, 7.5 A included', async (t) => {
  for (const amps of [16, 7.5, 6, 13.2, 32]) {
    await write(8093, Math.round(amps * 10));
    await box.pace(() => box.snapshot()['offeredCurrentA'] === amps, 2000);
    const sim = box.snapshot();
    t.same(sim['meter'].currentsA, [amps, amps, amps], `the car draws ${amps} A`);
    const p = await poll();
    t.same(p.currentsA, [amps, amps, amps]);
    t.equal(p.powerW, Math.round(amps * 230 * 3));
  }
});

t.test('8094 = 0 pauses, 8094 = 1 resumes', async (t) => {
  await write(8094, 0);
  await box.pace(() => box.snapshot()['offeredCurrentA'] === 0 && box.snapshot()['relayClosed'] === false, 5000);
  const paused = box.snapshot();
  t.equal(paused['pilot'], 'x1');
  const p = await poll();
  t.same([p.status, p.enabled, p.powerW], [1, false, 0], 'B, disabled, no power');
  t.same(await evcc.read(8093, 1), [320], '8093 reads what was written');
  await write(8094, 1);
  await box.pace(() => box.snapshot()['relayClosed'] === true, 10_000);
  t.equal((await poll()).status, 2);
});

t.test('8087 switches to one phase and back, never under load', async (t) => {
  await write(8087, 1);
  t.same(await evcc.read(8087, 1), [1]);
  await box.pace(() => box.snapshot()['phaseRelay'] === 1 && box.snapshot()['relayClosed'] === true, 20_000);
  const one = box.snapshot();
  t.same(one['meter'].currentsA, [32, 0, 0]);
  t.same((await poll()).currentsA, [32, 0, 0]);
  await write(8087, 0);
  await box.pace(() => box.snapshot()['phaseRelay'] === 3 && box.snapshot()['relayClosed'] === true, 20_000);
  const three = box.snapshot();
  t.same(three['meter'].currentsA, [32, 32, 32]);
});

t.test('8086 = 5: a CP disconnect, 8092 frozen meanwhile, then charging again', async (t) => {
  await write(8094, 0);
  await box.pace(() => box.snapshot()['relayClosed'] === false, 5000);
  const frozen = (await poll()).status;
  await write(8086, 5);
  await box.pace(() => box.snapshot()['pilot'] === 'E', 2000);
  t.equal((await poll()).status, frozen, '8092 holds its value');
  t.same(await evcc.read(8095, 1), [0]);
  await write(8094, 1);
  await box.pace(() => box.snapshot()['pilot'] === 'pwm', 8000);
  await box.pace(() => box.snapshot()['relayClosed'] === true, 10_000);
  t.equal((await poll()).status, 2);
});

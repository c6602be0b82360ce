import t from 'tap';
import { dutyPctForCurrent } from '../../firmware/charging/duty.js';
import { carPhasesFrom, gridLimitA, gridPhases, gridSignalActive, type GridPhaseInput } from '../../firmware/charging/grid.js';
import { simRig, type Rig } from '../helpers/sim-rig.js';

const GRID = { limitW: 4200, activeWhen: 'closed', voltageV: 230 } as const;

t.test('W → A with the phases energised: floored to 0.1 A, never below 6 A', async (t) => {
  const cases: Array<[limitW: number, voltageV: number, phases: number, limitA: number]> = [
    [4200, 230, 3, 6.0],
    [4200, 230, 1, 18.2],
    [4200, 240, 3, 6.0],
    [4200, 240, 1, 17.5],
    [11000, 230, 3, 15.9],
    [11000, 230, 1, 47.8],
    [11109, 230, 3, 16.1], // exactly 16.1 A: binary rounding must not floor it to 16.0
    [3000, 230, 3, 6], // 4.3 A: a car cannot charge below 6 A
    [1380, 230, 1, 6],
    [0, 230, 3, 6],
    [22080, 230, 3, 32],
  ];
  for (const [limitW, voltageV, phases, limitA] of cases)
    t.equal(gridLimitA(limitW, voltageV, phases), limitA, `${limitW} W at ${voltageV} V on ${phases} phase(s): ${limitA} A`);
});

t.test('the contact state that means "limit" is the installer\'s setting', async (t) => {
  t.equal(gridSignalActive(true, 'closed'), true);
  t.equal(gridSignalActive(false, 'closed'), false);
  t.equal(gridSignalActive(false, 'open'), true);
  t.equal(gridSignalActive(true, 'open'), false);
});

t.test('the phases a car draws on, as the meter sees them on three energised phases', async (t) => {
  const cases: Array<[currentsA: number[], phases: number | null]> = [
    [[16, 16, 16], 3],
    [[16, 0, 0], 1],
    [[0, 16, 0], 1],
    [[16, 16, 0.2], 2],
    [[0.3, 0.1, 0], null],
    [[0, 0, 0], null],
  ];
  for (const [currentsA, phases] of cases) t.equal(carPhasesFrom(currentsA), phases, `${JSON.stringify(currentsA)} → ${phases}`);
});

t.test('phase choice under the grid limit: the setting that lets the car take the most power within the limit', async (t) => {
  const base: GridPhaseInput = { limitW: 4200, voltageV: 230, carPhases: 1, otherLimitA: 32, current: 3 };
  const cases: Array<[name: string, input: Partial<GridPhaseInput>, phases: 1 | 3]> = [
    ['a one-phase car on three phases: one phase (18.2 A = 4.2 kW instead of 6.0 A = 1.4 kW)', {}, 1],
    ['a one-phase car already on one phase stays', { current: 1 }, 1],
    ['a one-phase car with another limit of 10 A still gains on one phase (2.3 kW)', { otherLimitA: 10 }, 1],
    ['a one-phase car with another limit of 6 A gains nothing: no switch', { otherLimitA: 6 }, 3],
    ['a three-phase car on three phases stays (4.1 kW; one phase 4.2 kW is within 5 %)', { carPhases: 3 }, 3],
    ['a three-phase car on one phase stays: three would gain nothing worth a switch', { carPhases: 3, current: 1 }, 1],
    ['a two-phase car: one phase (4.2 kW instead of 2.8 kW)', { carPhases: 2 }, 1],
    ['a three-phase car under 2 kW: one phase keeps within the limit (6 A × 3 would be 4.1 kW)', { carPhases: 3, limitW: 2000 }, 1],
    ['a high limit: a one-phase car takes 32 A on one phase either way, no switch', { limitW: 22000 }, 3],
    ['an 11 kW limit: a one-phase car gets 32 A on one phase instead of 15.9 A', { limitW: 11000 }, 1],
  ];
  for (const [name, input, phases] of cases) t.equal(gridPhases({ ...base, ...input }), phases, name);
});

/** The pilot's offer in A as the car reads it from the duty cycle. */
function pilotA(rig: Rig): number | null {
  const pilot = rig.plant.pilot;
  return pilot.mode === 'pwm' ? Math.round(pilot.dutyPct * 0.6 * 10) / 10 : null;
}

t.test('charging at 16 A on three phases: the contact closes → 6.0 A within 1 s, opens → 16 A within 1 s', async (t) => {
  const rig = simRig({ modbusLimitA: 16, grid: GRID });
  rig.plant.configureEv({ state: 'C' });
  rig.until(() => rig.closed(), 5_000);
  t.equal(pilotA(rig), 16, 'before: 16 A on the pilot');
  t.same(rig.controller.status().grid, { active: false, sinceMs: null, limitW: 4200, limitA: null });

  const closedAt = rig.clock.now();
  rig.plant.gridContactClosed = true;
  const applyMs = rig.until(() => rig.plant.pilot.mode === 'pwm' && rig.plant.pilot.dutyPct === dutyPctForCurrent(6), 1000);
  t.ok(applyMs <= 1000, `6.0 A on the pilot ${applyMs} ms after the contact closed`);
  const status = rig.controller.status();
  t.equal(status.offer.limitedBy, 'grid');
  t.same(status.grid, { active: true, sinceMs: closedAt + applyMs, limitW: 4200, limitA: 6 });
  t.equal(rig.closed(), true, 'charging goes on at the lower current');
  rig.clock.advance(10_000);
  t.same(rig.plant.currentsA(), [6, 6, 6], 'the car draws 6 A per phase: 4.14 kW ≤ 4.2 kW');

  rig.plant.gridContactClosed = false;
  const releaseMs = rig.until(() => pilotA(rig) === 16, 1000);
  t.ok(releaseMs <= 1000, `16 A back on the pilot ${releaseMs} ms after the contact opened`);
  t.equal(rig.controller.status().offer.limitedBy, 'modbus');
  t.equal(rig.controller.status().grid?.active, false);
});

t.test('activeWhen "open": the contact opening limits', async (t) => {
  const rig = simRig({ modbusLimitA: 16, grid: { ...GRID, activeWhen: 'open' } });
  rig.plant.gridContactClosed = true;
  rig.plant.configureEv({ state: 'C' });
  rig.until(() => rig.closed(), 5_000);
  t.equal(pilotA(rig), 16, 'closed contact: no limit');
  rig.plant.gridContactClosed = false;
  rig.until(() => pilotA(rig) === 6, 1000);
  t.equal(rig.controller.status().offer.limitedBy, 'grid');
});

t.test('a box wired for one phase: 4200 W is 18.2 A', async (t) => {
  const rig = simRig({ evse: { phases: 1 }, grid: GRID });
  rig.plant.gridContactClosed = true;
  rig.plant.configureEv({ state: 'C' });
  rig.until(() => rig.closed(), 5_000);
  t.equal(pilotA(rig), 18.2);
  t.equal(rig.controller.status().grid?.limitA, 18.2);
});

t.test('without a grid section the contact is not read', async (t) => {
  const rig = simRig({ modbusLimitA: 16 });
  rig.plant.gridContactClosed = true;
  rig.plant.configureEv({ state: 'C' });
  rig.until(() => rig.closed(), 5_000);
  rig.clock.advance(2000);
  t.equal(pilotA(rig), 16);
  t.equal(rig.controller.status().grid, null);
});

t.test('phase switching and a one-phase car: one phase under the limit (never under load), three again after it', async (t) => {
  const rig = simRig({ grid: GRID, evse: { phaseSwitching: { enabled: true, minIntervalS: 60, pauseS: 10 } } });
  rig.plant.configureEv({ state: 'C', phases: 1 });
  rig.until(() => rig.closed(), 5_000);
  rig.clock.advance(1000);
  t.same(rig.plant.currentsA(), [32, 0, 0], 'a one-phase car takes 32 A on L1');

  rig.plant.gridContactClosed = true;
  rig.until(() => pilotA(rig) === 6 || rig.plant.pilot.mode !== 'pwm', 1000);
  t.equal(rig.controller.status().grid?.limitA, 6, 'at once: 6.0 A with three phases energised');
  const switchMs = rig.until(() => rig.plant.phaseRelay === 1, 10_000);
  t.equal(rig.plant.contactsClosed(), false, 'the relay switched with the contactor open');
  t.equal(rig.plant.pilot.mode, 'E', 'the pilot held in state E for the switch pause');
  t.comment(`phase relay on one phase ${switchMs} ms later`);
  rig.until(() => rig.closed() && pilotA(rig) === 18.2, 20_000);
  rig.clock.advance(1000);
  t.same(rig.plant.currentsA(), [18.2, 0, 0], 'the car takes 18.2 A on one phase: 4.19 kW ≤ 4.2 kW');
  t.equal(rig.controller.status().grid?.limitA, 18.2);

  rig.plant.gridContactClosed = false;
  // The relay may switch again only minIntervalS (60 s) after the last switch.
  const backMs = rig.until(() => rig.plant.phaseRelay === 3, 120_000);
  t.comment(`three phases again ${backMs} ms after the release`);
  rig.until(() => rig.closed() && pilotA(rig) === 32, 30_000);
  t.equal(rig.controller.status().grid?.active, false);
});

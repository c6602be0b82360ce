import t from 'tap';
import {
  arbitrate,
  LIMIT_SOURCES,
  type ChargingLimits,
  type LimitSource,
  type Offer,
  type PauseReason,
} from '../../firmware/charging/arbiter.js';
import { codeableCurrentA } from '../../firmware/charging/duty.js';

const HARDWARE_A = [6, 10, 16, 32, 80];
const CABLE_A = [null, 0, 13, 20, 32, 63];
const MODBUS_LIMIT_A = [0, 5.9, 6, 10, 16, 32, 80];
const OCPP_LIMIT_A = [null, 0, 6, 10.7, 16, 40];
/** The grid operator's limit: inactive, and 4200 W on three and on one phase. */
const GRID_A = [null, 6, 18.2];

/** Every combination of the grid in the brief: 5 x 6 x 14 x 13 x 2 x 3 = 32 760 inputs. */
function grid(): ChargingLimits[] {
  const all: ChargingLimits[] = [];
  const ocpps: ChargingLimits['ocpp'][] = [null];
  for (const limitA of OCPP_LIMIT_A) for (const allowed of [true, false]) ocpps.push({ limitA, allowed });
  for (const hardwareA of HARDWARE_A)
    for (const cableA of CABLE_A)
      for (const limitA of MODBUS_LIMIT_A)
        for (const enabled of [true, false])
          for (const ocpp of ocpps)
            for (const faultLatched of [false, true])
              for (const gridA of GRID_A) all.push({ hardwareA, cableA, modbus: { limitA, enabled }, ocpp, faultLatched, gridA });
  return all;
}

/** The limit each input sets, undefined when it sets none (tethered cable, no OCPP or no profile). */
function limitsOf(limits: ChargingLimits): Record<LimitSource, number | undefined> {
  return {
    hardware: limits.hardwareA,
    cable: limits.cableA ?? undefined,
    modbus: limits.modbus.limitA,
    ocpp: limits.ocpp?.limitA ?? undefined,
    grid: limits.gridA ?? undefined,
  };
}

function minLimit(limits: ChargingLimits): number {
  return Math.min(...Object.values(limitsOf(limits)).filter((v): v is number => v !== undefined));
}

/** The pause reason by the contract's precedence: fault > modbusDisabled > ocppNotAllowed > belowMinimum. */
function expectedPause(limits: ChargingLimits): PauseReason | null {
  if (limits.faultLatched) return 'fault';
  if (!limits.modbus.enabled) return 'modbusDisabled';
  if (limits.ocpp !== null && !limits.ocpp.allowed) return 'ocppNotAllowed';
  if (minLimit(limits) < 6) return 'belowMinimum';
  return null;
}

/** Runs `check` over the whole grid; returns how many inputs were checked and the first violations. */
function overGrid(check: (limits: ChargingLimits, offer: Offer) => string | null): { checked: number; wrong: string[] } {
  const inputs = grid();
  const wrong: string[] = [];
  for (const limits of inputs) {
    const offer = arbitrate(limits);
    const problem = check(limits, offer);
    if (problem !== null) wrong.push(`${problem}: ${JSON.stringify(limits)} -> ${JSON.stringify(offer)}`);
  }
  return { checked: inputs.length, wrong: wrong.length > 10 ? [...wrong.slice(0, 10), `... and ${wrong.length - 10} more`] : wrong };
}

const NO_VIOLATIONS = { checked: 32760, wrong: [] };

t.test('LIMIT_SOURCES order (wins a tie): hardware, cable, modbus, ocpp, grid', async (t) => {
  t.same(LIMIT_SOURCES, ['hardware', 'cable', 'modbus', 'ocpp', 'grid']);
});

t.test('grid: offeredA is never above any input limit', async (t) => {
  t.strictSame(
    overGrid((limits, offer) => {
      for (const [source, limitA] of Object.entries(limitsOf(limits))) {
        if (limitA !== undefined && offer.offeredA > limitA) return `offered above the ${source} limit ${limitA}`;
      }
      return null;
    }),
    NO_VIOLATIONS,
  );
});

t.test('grid: limitA is the minimum of the input limits', async (t) => {
  t.strictSame(
    overGrid((limits, offer) => (offer.limitA === minLimit(limits) ? null : `limitA should be ${minLimit(limits)}`)),
    NO_VIOLATIONS,
  );
});

t.test('grid: pausedBy follows fault > modbusDisabled > ocppNotAllowed > belowMinimum', async (t) => {
  t.strictSame(
    overGrid((limits, offer) => {
      const expected = expectedPause(limits);
      return offer.pausedBy === expected ? null : `pausedBy should be ${expected}`;
    }),
    NO_VIOLATIONS,
  );
});

t.test('grid: a paused offer is 0 A', async (t) => {
  t.strictSame(
    overGrid((limits, offer) => (expectedPause(limits) !== null && offer.offeredA !== 0 ? 'paused but offering' : null)),
    NO_VIOLATIONS,
  );
});

t.test('grid: when not paused, offeredA is codeableCurrentA(min) and at least 6 A', async (t) => {
  t.strictSame(
    overGrid((limits, offer) => {
      if (expectedPause(limits) !== null) return null;
      const expected = codeableCurrentA(minLimit(limits));
      if (offer.offeredA !== expected) return `offeredA should be ${expected}`;
      if (offer.offeredA < 6) return 'offering less than 6 A';
      return null;
    }),
    NO_VIOLATIONS,
  );
});

t.test('grid: limitedBy names the first input (in LIMIT_SOURCES order) whose limit is the minimum', async (t) => {
  t.strictSame(
    overGrid((limits, offer) => {
      const all = limitsOf(limits);
      const min = minLimit(limits);
      const expected = LIMIT_SOURCES.find((source) => all[source] === min);
      if (all[offer.limitedBy] !== min) return `limitedBy ${offer.limitedBy} does not set the minimum ${min}`;
      return offer.limitedBy === expected ? null : `limitedBy should be ${expected}`;
    }),
    NO_VIOLATIONS,
  );
});

const base: ChargingLimits = { hardwareA: 32, cableA: 32, modbus: { limitA: 32, enabled: true }, ocpp: null, faultLatched: false };

t.test('examples: the smallest limit wins and is named', async (t) => {
  const cases: Array<[name: string, limits: ChargingLimits, offer: Offer]> = [
    ['hardware', { ...base, hardwareA: 16 }, { offeredA: 16, limitA: 16, limitedBy: 'hardware', pausedBy: null }],
    ['cable', { ...base, cableA: 13 }, { offeredA: 13, limitA: 13, limitedBy: 'cable', pausedBy: null }],
    ['modbus', { ...base, modbus: { limitA: 10, enabled: true } }, { offeredA: 10, limitA: 10, limitedBy: 'modbus', pausedBy: null }],
    ['ocpp', { ...base, ocpp: { limitA: 10.7, allowed: true } }, { offeredA: 10.7, limitA: 10.7, limitedBy: 'ocpp', pausedBy: null }],
    [
      'tethered cable sets no limit',
      { ...base, hardwareA: 80, cableA: null, modbus: { limitA: 80, enabled: true } },
      { offeredA: 80, limitA: 80, limitedBy: 'hardware', pausedBy: null },
    ],
    [
      'an OCPP without a profile sets no limit',
      { ...base, ocpp: { limitA: null, allowed: true } },
      { offeredA: 32, limitA: 32, limitedBy: 'hardware', pausedBy: null },
    ],
    [
      'a fractional limit is rounded down to 0.1 A',
      { ...base, modbus: { limitA: 16.39, enabled: true } },
      { offeredA: 16.3, limitA: 16.39, limitedBy: 'modbus', pausedBy: null },
    ],
    [
      'the 51..52.5 A gap is offered as 51 A',
      { ...base, hardwareA: 80, cableA: 63, modbus: { limitA: 52, enabled: true } },
      { offeredA: 51, limitA: 52, limitedBy: 'modbus', pausedBy: null },
    ],
    [
      'exactly 6 A is offered',
      { ...base, ocpp: { limitA: 6, allowed: true } },
      { offeredA: 6, limitA: 6, limitedBy: 'ocpp', pausedBy: null },
    ],
    ['the grid operator: 4200 W on three phases', { ...base, gridA: 6 }, { offeredA: 6, limitA: 6, limitedBy: 'grid', pausedBy: null }],
    [
      'the grid operator: 4200 W on one phase',
      { ...base, gridA: 18.2 },
      { offeredA: 18.2, limitA: 18.2, limitedBy: 'grid', pausedBy: null },
    ],
    [
      "a lower limit than the grid operator's wins",
      { ...base, gridA: 18.2, modbus: { limitA: 10, enabled: true } },
      { offeredA: 10, limitA: 10, limitedBy: 'modbus', pausedBy: null },
    ],
    [
      'the grid signal inactive sets no limit',
      { ...base, gridA: null },
      { offeredA: 32, limitA: 32, limitedBy: 'hardware', pausedBy: null },
    ],
  ];
  for (const [name, limits, offer] of cases) t.strictSame(arbitrate(limits), offer, name);
});

t.test('examples: ties name the first input in LIMIT_SOURCES order', async (t) => {
  const all16: ChargingLimits = {
    hardwareA: 16,
    cableA: 16,
    modbus: { limitA: 16, enabled: true },
    ocpp: { limitA: 16, allowed: true },
    faultLatched: false,
  };
  t.equal(arbitrate(all16).limitedBy, 'hardware');
  t.equal(arbitrate({ ...all16, hardwareA: 32 }).limitedBy, 'cable');
  t.equal(arbitrate({ ...all16, hardwareA: 32, cableA: 32 }).limitedBy, 'modbus');
  t.equal(arbitrate({ ...all16, hardwareA: 32, cableA: null }).limitedBy, 'modbus');
  t.equal(arbitrate({ ...all16, hardwareA: 32, cableA: 32, modbus: { limitA: 32, enabled: true } }).limitedBy, 'ocpp');
});

t.test('examples: below 6 A pauses with belowMinimum', async (t) => {
  const cases: Array<[name: string, limits: ChargingLimits, limitedBy: LimitSource, limitA: number]> = [
    ['no cable (PP open)', { ...base, cableA: 0 }, 'cable', 0],
    ['Modbus 5.9 A', { ...base, modbus: { limitA: 5.9, enabled: true } }, 'modbus', 5.9],
    ['Modbus 0 A', { ...base, modbus: { limitA: 0, enabled: true } }, 'modbus', 0],
    ['OCPP profile 0 A', { ...base, ocpp: { limitA: 0, allowed: true } }, 'ocpp', 0],
  ];
  for (const [name, limits, limitedBy, limitA] of cases) {
    t.strictSame(arbitrate(limits), { offeredA: 0, limitA, limitedBy, pausedBy: 'belowMinimum' }, name);
  }
});

t.test('examples: each pause reason alone, then the precedence when they stack', async (t) => {
  const fault: ChargingLimits = { ...base, faultLatched: true };
  const disabled: ChargingLimits = { ...base, modbus: { limitA: 32, enabled: false } };
  const notAllowed: ChargingLimits = { ...base, ocpp: { limitA: null, allowed: false } };
  const below: ChargingLimits = { ...base, modbus: { limitA: 5, enabled: true } };
  t.equal(arbitrate(fault).pausedBy, 'fault');
  t.equal(arbitrate(disabled).pausedBy, 'modbusDisabled');
  t.equal(arbitrate(notAllowed).pausedBy, 'ocppNotAllowed');
  t.equal(arbitrate(below).pausedBy, 'belowMinimum');
  const all: ChargingLimits = { ...base, faultLatched: true, modbus: { limitA: 5, enabled: false }, ocpp: { limitA: 0, allowed: false } };
  t.strictSame(arbitrate(all), { offeredA: 0, limitA: 0, limitedBy: 'ocpp', pausedBy: 'fault' });
  t.equal(arbitrate({ ...all, faultLatched: false }).pausedBy, 'modbusDisabled');
  t.equal(arbitrate({ ...all, faultLatched: false, modbus: { limitA: 5, enabled: true } }).pausedBy, 'ocppNotAllowed');
  t.equal(
    arbitrate({ ...all, faultLatched: false, modbus: { limitA: 5, enabled: true }, ocpp: { limitA: 0, allowed: true } }).pausedBy,
    'belowMinimum',
  );
  for (const paused of [fault, disabled, notAllowed, below]) t.equal(arbitrate(paused).offeredA, 0, `${arbitrate(paused).pausedBy}: 0 A`);
});

t.test('a limit that is not a number pauses instead of being skipped by min()', async (t) => {
  const offer = arbitrate({ hardwareA: 32, cableA: 32, modbus: { limitA: NaN, enabled: true }, ocpp: null, faultLatched: false });
  t.equal(offer.offeredA, 0);
  t.equal(offer.pausedBy, 'belowMinimum');
  t.equal(offer.limitedBy, 'modbus');
});

t.test('storage: a transaction whose start is not on disk gets no offer; only a fault names itself before it', async (t) => {
  const held: ChargingLimits = { ...base, storagePaused: true };
  t.strictSame(arbitrate(held), { ...arbitrate(base), offeredA: 0, pausedBy: 'storage' });
  t.equal(arbitrate({ ...held, faultLatched: true }).pausedBy, 'fault');
  t.equal(arbitrate({ ...held, userPaused: true, modbus: { limitA: 32, enabled: false } }).pausedBy, 'storage');
  t.equal(arbitrate({ ...held, storagePaused: false }).pausedBy, null);
});

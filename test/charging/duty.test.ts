import t from 'tap';
import { codeableCurrentA, dutyPctForCurrent, MAX_CURRENT_A, MIN_CURRENT_A } from '../../firmware/charging/duty.js';
import { evCurrentForDutyPct } from '../../hal/sim/ev.js';

/** Small seeded PRNG (mulberry32) so a failing property check reproduces with the same inputs. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 0x6185_1a06;
const EPS = 1e-9;

/** Lists at most 10 violations so a failure stays readable. */
function firstFew(items: string[]): string[] {
  return items.length > 10 ? [...items.slice(0, 10), `... and ${items.length - 10} more`] : items;
}

t.test('the codeable range is 6..80 A', async (t) => {
  t.equal(MIN_CURRENT_A, 6);
  t.equal(MAX_CURRENT_A, 80);
});

t.test('dutyPctForCurrent: 6..51 A is I / 0.6 (Table A.7 lower line)', async (t) => {
  const cases: Array<[currentA: number, dutyPct: number]> = [
    [6, 10],
    [6.1, 6.1 / 0.6],
    [10, 10 / 0.6],
    [13, 13 / 0.6],
    [16, 16 / 0.6],
    [20, 20 / 0.6],
    [25.5, 42.5],
    [30, 50],
    [32, 53 + 1 / 3],
    [40, 40 / 0.6],
    [48, 80],
    [50.9, 50.9 / 0.6],
    [51, 85],
  ];
  for (const [currentA, dutyPct] of cases) {
    const actual = dutyPctForCurrent(currentA);
    t.ok(Math.abs(actual - dutyPct) <= EPS, `${currentA} A -> ${dutyPct} % (got ${actual})`);
  }
  t.equal(dutyPctForCurrent(6), 10, '6 A is exactly 10 %');
  t.equal(dutyPctForCurrent(51), 85, '51 A is exactly 85 %');
});

t.test('dutyPctForCurrent: 51..80 A is I / 2.5 + 64 (Table A.7 upper line)', async (t) => {
  const cases: Array<[currentA: number, dutyPct: number]> = [
    [52.6, 85.04],
    [55, 86],
    [60, 88],
    [63, 89.2],
    [70, 92],
    [75, 94],
    [79.9, 95.96],
    [80, 96],
  ];
  for (const [currentA, dutyPct] of cases) {
    const actual = dutyPctForCurrent(currentA);
    t.ok(Math.abs(actual - dutyPct) <= EPS, `${currentA} A -> ${dutyPct} % (got ${actual})`);
  }
  t.equal(dutyPctForCurrent(80), 96, '80 A is exactly 96 %');
});

t.test('dutyPctForCurrent throws RangeError outside 6..80 A', async (t) => {
  for (const currentA of [-Infinity, -6, 0, 1, 5, 5.9, 5.999999, 80.000001, 80.1, 81, 100, Infinity, NaN]) {
    t.throws(() => dutyPctForCurrent(currentA), RangeError, `${currentA} A has no duty cycle`);
  }
});

t.test('dutyPctForCurrent accepts the range ends 6 and 80 A', async (t) => {
  t.doesNotThrow(() => dutyPctForCurrent(6));
  t.doesNotThrow(() => dutyPctForCurrent(80));
});

t.test('codeableCurrentA: examples', async (t) => {
  const cases: Array<[limitA: number, codeableA: number]> = [
    // below 6 A and unreadable inputs: nothing can be offered
    [NaN, 0],
    [-Infinity, 0],
    [-1, 0],
    [0, 0],
    [5, 0],
    [5.9, 0],
    [5.99999999, 0],
    // 0.1 A steps, never above the input
    [6, 6],
    [6.01, 6],
    [6.05, 6],
    [6.09999, 6],
    [6.1, 6.1],
    [10.7, 10.7],
    [13, 13],
    [16, 16],
    [16.3, 16.3],
    [16.29, 16.2],
    [16.35, 16.3],
    [16.39999, 16.3],
    [20.05, 20],
    [32, 32],
    [0.1 * 321, 32.1],
    [50.99, 50.9],
    [51, 51],
    // 51 < I <= 52.5 has no duty cycle of its own: closed downwards to 51 A
    [51.01, 51],
    [51.05, 51],
    [51.1, 51],
    [51.5, 51],
    [52, 51],
    [52.4, 51],
    [52.49, 51],
    [52.4999999, 51],
    [52.5, 51], // 85 % is read on the lower line as 51 A
    // above the gap
    [52.6, 52.6],
    [52.65, 52.6],
    [63, 63],
    [79.9, 79.9],
    [79.99, 79.9],
    [80, 80],
    // capped at 80 A
    [80.01, 80],
    [80.1, 80],
    [100, 80],
    [65535, 80],
    [Infinity, 80],
  ];
  for (const [limitA, codeableA] of cases) {
    t.equal(codeableCurrentA(limitA), codeableA, `codeableCurrentA(${limitA}) = ${codeableA}`);
  }
});

t.test('codeableCurrentA: every 0.1 A step from 6.0 to 80.0 outside the gap above 51 A up to 52.5 A codes itself', async (t) => {
  const wrong: string[] = [];
  for (let deciA = 60; deciA <= 800; deciA++) {
    const currentA = deciA / 10;
    const expected = currentA > 51 && currentA <= 52.5 ? 51 : currentA;
    const actual = codeableCurrentA(currentA);
    if (actual !== expected) wrong.push(`${currentA} -> ${actual}, expected ${expected}`);
  }
  t.same(firstFew(wrong), []);
});

t.test('the car (IEC Table A.8 decoder) reads back every codeable current from 6.0 to 80.0 A', async (t) => {
  const wrong: string[] = [];
  let checked = 0;
  for (let deciA = 60; deciA <= 800; deciA++) {
    const codedA = codeableCurrentA(deciA / 10);
    const dutyPct = dutyPctForCurrent(codedA);
    const readA = evCurrentForDutyPct(dutyPct);
    checked++;
    if (!(Math.abs(readA - codedA) <= EPS)) {
      wrong.push(`limit ${deciA / 10} A: coded ${codedA} A as ${dutyPct} % duty, the car reads ${readA} A`);
    }
  }
  t.equal(checked, 741, 'all 741 steps were checked');
  t.same(firstFew(wrong), [], 'the car reads exactly the coded current');
});

t.test('property: codeableCurrentA over random inputs (seeded)', async (t) => {
  const random = mulberry32(SEED);
  const wrong: string[] = [];
  const N = 20000;
  for (let i = 0; i < N; i++) {
    // mostly the interesting range, some far outside it, some on exact 0.1 A steps
    const pick = random();
    const limitA = pick < 0.1 ? (random() - 0.5) * 2000 : pick < 0.3 ? Math.round(random() * 900) / 10 : -5 + random() * 95;
    const c = codeableCurrentA(limitA);
    const why = (msg: string) => wrong.push(`seed ${SEED} #${i}: codeableCurrentA(${limitA}) = ${c}: ${msg}`);
    if (limitA < MIN_CURRENT_A) {
      if (c !== 0) why('expected 0 below 6 A');
      continue;
    }
    if (c > limitA) why('above the input');
    if (c < MIN_CURRENT_A || c > MAX_CURRENT_A) why('outside 6..80 A');
    if (Math.abs(c * 10 - Math.round(c * 10)) > EPS) why('not on a 0.1 A step');
    if (c > 51 && c <= 52.5) why('inside the gap above 51 A up to 52.5 A');
    // the highest such value: the next 0.1 A step up is above the input, in the gap, or above 80 A
    const next = (Math.round(c * 10) + 1) / 10;
    if (!(next > limitA || (next > 51 && next <= 52.5) || next > MAX_CURRENT_A)) why(`${next} A would also be codeable`);
    if (codeableCurrentA(c) !== c) why('coding twice changes it');
    let dutyPct = NaN;
    try {
      dutyPct = dutyPctForCurrent(c);
    } catch (err) {
      why(`dutyPctForCurrent threw ${(err as Error).message}`);
      continue;
    }
    if (dutyPct < 10 || dutyPct > 96) why(`duty ${dutyPct} % outside 10..96 %`);
    const readA = evCurrentForDutyPct(dutyPct);
    if (readA > limitA + EPS) why(`the car reads ${readA} A, above the limit`);
  }
  t.same(firstFew(wrong), [], `${N} random inputs`);
});

t.test('property: dutyPctForCurrent is increasing over random currents (seeded)', async (t) => {
  const random = mulberry32(SEED + 1);
  const wrong: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const a = codeableCurrentA(6 + random() * 74);
    const b = codeableCurrentA(6 + random() * 74);
    if (a === b) continue;
    const [lo, hi] = a < b ? [a, b] : [b, a];
    if (!(dutyPctForCurrent(lo) < dutyPctForCurrent(hi))) {
      wrong.push(`seed ${SEED + 1} #${i}: duty(${lo}) = ${dutyPctForCurrent(lo)} >= duty(${hi}) = ${dutyPctForCurrent(hi)}`);
    }
  }
  t.same(firstFew(wrong), []);
});

import t from 'tap';
import { cableRatingA } from '../../firmware/charging/proximity.js';

/** IEC 61851-1 Table B.2 / IEC 62196-2: nominal Rc, rating with 3 and with 1 wired phase. */
const CODINGS: ReadonlyArray<readonly [ohm: number, threePhaseA: number, onePhaseA: number]> = [
  [1500, 13, 13],
  [680, 20, 20],
  [220, 32, 32],
  [100, 63, 70],
];

t.test('nominal PP resistors give 13 / 20 / 32 / 63 A (70 A with one wired phase)', async (t) => {
  for (const [ohm, threePhaseA, onePhaseA] of CODINGS) {
    t.equal(cableRatingA(ohm, 3), threePhaseA, `${ohm} Ω, 3 phases -> ${threePhaseA} A`);
    t.equal(cableRatingA(ohm, 1), onePhaseA, `${ohm} Ω, 1 phase -> ${onePhaseA} A`);
  }
});

t.test('±3 % resistor tolerance around each nominal value keeps the rating', async (t) => {
  for (const [ohm, threePhaseA, onePhaseA] of CODINGS) {
    for (const factor of [0.97, 0.98, 0.99, 0.995, 1.005, 1.01, 1.02, 1.03]) {
      const r = ohm * factor;
      t.equal(cableRatingA(r, 3), threePhaseA, `${r.toFixed(2)} Ω (${ohm} Ω x ${factor}), 3 phases -> ${threePhaseA} A`);
      t.equal(cableRatingA(r, 1), onePhaseA, `${r.toFixed(2)} Ω (${ohm} Ω x ${factor}), 1 phase -> ${onePhaseA} A`);
    }
  }
});

t.test('an open PP (no plug, above 2700 Ω) gives 0', async (t) => {
  for (const ohm of [2700.01, 2701, 3000, 10_000, 1e6, Number.MAX_VALUE, Infinity]) {
    t.equal(cableRatingA(ohm, 3), 0, `${ohm} Ω, 3 phases -> 0`);
    t.equal(cableRatingA(ohm, 1), 0, `${ohm} Ω, 1 phase -> 0`);
  }
});

t.test('2700 Ω is still a 13 A plug (the open threshold is exclusive)', async (t) => {
  t.equal(cableRatingA(2700, 3), 13);
  t.equal(cableRatingA(2700, 1), 13);
});

t.test('a shorted PP (below 50 Ω) gives 0, 50 Ω is still 63 / 70 A', async (t) => {
  for (const ohm of [49.99, 49, 30, 10, 1, 0, -0, -1, -Infinity]) {
    t.equal(cableRatingA(ohm, 3), 0, `${ohm} Ω, 3 phases -> 0`);
    t.equal(cableRatingA(ohm, 1), 0, `${ohm} Ω, 1 phase -> 0`);
  }
  t.equal(cableRatingA(50, 3), 63);
  t.equal(cableRatingA(50, 1), 70);
});

t.test('an unreadable PP (NaN) gives 0', async (t) => {
  t.equal(cableRatingA(NaN, 3), 0);
  t.equal(cableRatingA(NaN, 1), 0);
});

t.test('sweep 50..2700 Ω: a higher resistance never gives a higher rating, and only coded ratings appear', async (t) => {
  const wrong: string[] = [];
  for (const phases of [1, 3] as const) {
    const allowed = phases === 1 ? [13, 20, 32, 70] : [13, 20, 32, 63];
    let previousA = Infinity;
    for (let ohm = 50; ohm <= 2700; ohm += 0.5) {
      const ratingA = cableRatingA(ohm, phases);
      if (!allowed.includes(ratingA)) wrong.push(`${ohm} Ω, ${phases} phases -> ${ratingA} A, not one of ${allowed.join('/')}`);
      if (ratingA > previousA) wrong.push(`${ohm} Ω, ${phases} phases -> ${ratingA} A, more than ${previousA} A just below`);
      previousA = ratingA;
    }
  }
  t.same(wrong, []);
});

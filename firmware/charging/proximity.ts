/**
 * Cable rating from the Proximity Pilot resistor of a Type 2 plug (IEC 61851-1 Table B.2,
 * IEC 62196-2): 1.5 kΩ 13 A, 680 Ω 20 A, 220 Ω 32 A, 100 Ω 63 A (70 A when only one phase is
 * wired). The decision boundaries lie between the nominal values, as the known open chargers ship
 * them; above the 13 A window the plug is taken as absent, below the 63 A window as shorted.
 */

/** Rc above this: no plug inserted (PP open). */
const OPEN_ABOVE_OHM = 2700;
const BOUNDARIES: ReadonlyArray<readonly [minOhm: number, ratingA: number]> = [
  [1000, 13],
  [330, 20],
  [150, 32],
  [50, 63],
];

/**
 * The rating of the inserted cable in A, or 0 when there is no usable cable (open or shorted
 * PP), which forbids charging. `wiredPhases` picks 70 A over 63 A for the largest coding.
 */
export function cableRatingA(resistanceOhm: number, wiredPhases: 1 | 3): number {
  if (!(resistanceOhm <= OPEN_ABOVE_OHM)) return 0;
  for (const [minOhm, ratingA] of BOUNDARIES) {
    if (resistanceOhm >= minOhm) return ratingA === 63 && wiredPhases === 1 ? 70 : ratingA;
  }
  return 0;
}

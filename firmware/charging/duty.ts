/**
 * IEC 61851-1 Annex A: the current the EVSE offers is coded in the PWM duty cycle.
 * Table A.7, the EVSE side; how a car reads it (Table A.8) is the simulated car's business.
 */

/** Below this the pilot cannot offer a charge (Table A.7: 10 % = 6 A is the lowest). */
export const MIN_CURRENT_A = 6;
/** 96 % duty, the highest current the pilot can code. */
export const MAX_CURRENT_A = 80;
/**
 * 85 % codes 51 A on the lower line and 52.5 A on the upper one; a car reads 85 % on the lower
 * line, so nothing above 51 A up to 52.5 A is codeable.
 */
const LOWER_LINE_MAX_A = 51;
const UPPER_LINE_MIN_A = 52.5;

/**
 * The highest current at or below `limitA` that the pilot can offer exactly: 0.1 A steps (the
 * resolution of the Modbus map), the gap above 51 A up to 52.5 A closed downwards, 80 A at most;
 * 0 below 6 A (and for NaN).
 */
export function codeableCurrentA(limitA: number): number {
  if (!(limitA >= MIN_CURRENT_A)) return 0;
  // Round to deci-amperes, then step down if that went above the limit: 16.3 stays 16.3 although
  // 16.3 * 10 is not exactly 163 in binary, and the result is never above `limitA`.
  let deciA = Math.round(limitA * 10);
  if (deciA / 10 > limitA) deciA -= 1;
  const currentA = Math.min(deciA / 10, MAX_CURRENT_A);
  return currentA > LOWER_LINE_MAX_A && currentA <= UPPER_LINE_MIN_A ? LOWER_LINE_MAX_A : currentA;
}

/** Duty cycle in percent for a current of 6..80 A (Table A.7). */
export function dutyPctForCurrent(currentA: number): number {
  if (!(currentA >= MIN_CURRENT_A && currentA <= MAX_CURRENT_A)) {
    throw new RangeError(`no PWM duty codes ${currentA} A`);
  }
  return currentA <= LOWER_LINE_MAX_A ? currentA / 0.6 : currentA / 2.5 + 64;
}

import type { PilotOutput, PilotSample } from '../../hal/control-pilot.js';

/**
 * IEC 61851-1 states as read on the Control Pilot: A no car, B car connected, C car charging,
 * D charging with ventilation, E 0 V (CP shorted to PE or no supply), F -12 V (EVSE error).
 */
export type CpState = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

/** Volts the high plateau must pass beyond a band edge before the state changes (IEC 61851-1 A.4.11). */
export const HYSTERESIS_V = 0.3;

/** Bands of the high plateau, lower edge inclusive; the edges are the midpoints between the nominal 12/9/6/3/0/-12 V. */
const BANDS: ReadonlyArray<readonly [state: CpState, minV: number, maxV: number]> = [
  ['A', 10.5, Infinity],
  ['B', 7.5, 10.5],
  ['C', 4.5, 7.5],
  ['D', 1.5, 4.5],
  ['E', -10.5, 1.5],
  ['F', -Infinity, -10.5],
];

/** The low plateau during PWM must stay near -12 V; higher means the car's diode is missing or shorted. */
const DIODE_OK_BELOW_V = -10.5;

/** Classifies the high plateau; a reading within the hysteresis of `previous`'s band keeps `previous`. */
export function classifyHighV(highV: number, previous: CpState | null): CpState {
  if (previous !== null) {
    const band = BANDS.find(([state]) => state === previous);
    if (band && highV >= band[1] - HYSTERESIS_V && highV < band[2] + HYSTERESIS_V) return previous;
  }
  for (const [state, minV] of BANDS) if (highV >= minV) return state;
  return 'F';
}

/**
 * How long a new reading must hold before it counts: the first sample that shows it and every
 * sample up to one this long after it must agree, so a single spike never counts. Readings that
 * take power away (unplug, C→B, short, error) are confirmed fast because the contactor must open
 * within 100 ms (Table A.6 seq. 2.2 and 8.1) and our goal is 20 ms; a faster confirmation can only
 * open the contactor sooner, never close it. On the Linux board the ADC converts the pilot every
 * ~3 ms, so 5 ms spans at least two conversions. Readings that ask for power are confirmed slower
 * against contact bounce, well inside the 3 s the standard gives to close.
 */
export const DEBOUNCE_FAST_MS = 5;
export const DEBOUNCE_SLOW_MS = 100;
/** A low plateau away from -12 V must hold this long before it is a diode fault (it latches for the session). */
export const DIODE_DEBOUNCE_MS = 10;

function debounceMs(from: CpState | null, to: CpState): number {
  // Leaving C or D is always fast, C→D included: D without ventilation must not stay energised.
  if (from === 'C' || from === 'D') return DEBOUNCE_FAST_MS;
  if (to === 'C' || to === 'D') return DEBOUNCE_SLOW_MS;
  if (to === 'B' && (from === 'A' || from === null)) return DEBOUNCE_SLOW_MS;
  return DEBOUNCE_FAST_MS;
}

export interface PilotReading {
  /** The debounced state; null until the first reading has held long enough. */
  readonly state: CpState | null;
  /** Debounced: the low plateau is not at -12 V while PWM runs with a car connected. */
  readonly diodeFault: boolean;
  readonly candidate: CpState | null;
  readonly candidateSinceMs: number;
  readonly diodeSuspectSinceMs: number | null;
}

export const initialPilotReading: PilotReading = {
  state: null,
  diodeFault: false,
  candidate: null,
  candidateSinceMs: 0,
  diodeSuspectSinceMs: null,
};

/** Layer 1 of the charging core: one CP sample in, the debounced state and diode check out. */
export function readPilot(previous: PilotReading, sample: PilotSample, output: PilotOutput, nowMs: number): PilotReading {
  const raw = classifyHighV(sample.highV, previous.state);
  let { state, candidate, candidateSinceMs } = previous;
  if (raw === state) {
    candidate = null;
  } else {
    if (raw !== candidate) {
      candidate = raw;
      candidateSinceMs = nowMs;
    }
    if (nowMs - candidateSinceMs >= debounceMs(state, raw)) {
      state = raw;
      candidate = null;
    }
  }
  // The diode is only visible while PWM runs and a car (B, C, D) loads the line.
  const carLoads = raw === 'B' || raw === 'C' || raw === 'D';
  const diodeSuspect = output.mode === 'pwm' && carLoads && sample.lowV > DIODE_OK_BELOW_V;
  const diodeSuspectSinceMs = diodeSuspect ? (previous.diodeSuspectSinceMs ?? nowMs) : null;
  const diodeFault = diodeSuspectSinceMs !== null && nowMs - diodeSuspectSinceMs >= DIODE_DEBOUNCE_MS;
  return { state, diodeFault, candidate, candidateSinceMs, diodeSuspectSinceMs };
}

/**
 * When the reading next decides something on its own if the line stays as it is: the debounce end
 * of the candidate state or of a suspected diode fault. Null: nothing pending. The controller
 * makes a pass then, instead of at its next regular one.
 */
export function pendingUntilMs(reading: PilotReading): number | null {
  const times: number[] = [];
  if (reading.candidate !== null) times.push(reading.candidateSinceMs + debounceMs(reading.state, reading.candidate));
  if (reading.diodeSuspectSinceMs !== null && !reading.diodeFault) times.push(reading.diodeSuspectSinceMs + DIODE_DEBOUNCE_MS);
  return times.length === 0 ? null : Math.min(...times);
}

import type { PilotOutput } from '../control-pilot.js';
import type { PhaseCount } from '../phase-relay.js';

/** What the car asks for with its CP resistors (S2 open = B, closed = C, with ventilation = D). */
export type EvRequest = 'A' | 'B' | 'C' | 'D';
/** Cable coding as a current rating; 0 = no cable in the socket (PP open). */
export type PpCurrentA = 0 | 13 | 20 | 32 | 63;

export interface EvSettings {
  readonly state: EvRequest;
  readonly ppCurrentA: PpCurrentA;
  readonly maxCurrentA: number;
  readonly phases: PhaseCount;
  /** How long the car keeps showing C after the PWM stops. */
  readonly followDelayMs: number;
}

export const DEFAULT_EV: EvSettings = { state: 'A', ppCurrentA: 32, maxCurrentA: 32, phases: 3, followDelayMs: 1000 };

/**
 * How a car reads the PWM duty (IEC 61851-1 Table A.8), written from the car's side so the
 * firmware's coding (Table A.7) is checked against an independent reading: 0 = may not charge.
 */
export function evCurrentForDutyPct(dutyPct: number): number {
  if (dutyPct < 8 || dutyPct > 97) return 0;
  if (dutyPct < 10) return 6;
  if (dutyPct <= 85) return dutyPct * 0.6;
  if (dutyPct <= 96) return (dutyPct - 64) * 2.5;
  return 80;
}

/**
 * The virtual car: it shows C (or D) only while the pilot runs PWM, keeps showing it for
 * `followDelayMs` after the PWM stops (a car needs time to open S2), and draws what the duty
 * allows up to its own maximum.
 */
export class SimulatedEv {
  #settings: EvSettings = DEFAULT_EV;
  #pwmLostAtMs: number | null = null;

  get settings(): EvSettings {
    return this.#settings;
  }

  configure(settings: Partial<EvSettings>): void {
    this.#settings = { ...this.#settings, ...settings };
  }

  /** Tells the car the pilot changed; it remembers when the PWM went away. */
  pilotChanged(previous: PilotOutput, next: PilotOutput, nowMs: number): void {
    if (next.mode === 'pwm') this.#pwmLostAtMs = null;
    else if (previous.mode === 'pwm') this.#pwmLostAtMs = nowMs;
  }

  /** The state the car's resistors put on the line. */
  shownState(pilot: PilotOutput, nowMs: number): EvRequest {
    const { state, followDelayMs } = this.#settings;
    if (state !== 'C' && state !== 'D') return state;
    if (this.#permitted(pilot)) return state;
    const following = this.#pwmLostAtMs !== null && nowMs - this.#pwmLostAtMs < followDelayMs;
    return following ? state : 'B';
  }

  /** Current per phase the car wants to draw when the contactor is closed, A. */
  demandA(pilot: PilotOutput): number {
    const { state, maxCurrentA } = this.#settings;
    if (state !== 'C' && state !== 'D') return 0;
    return pilot.mode === 'pwm' ? Math.min(evCurrentForDutyPct(pilot.dutyPct), maxCurrentA) : 0;
  }

  #permitted(pilot: PilotOutput): boolean {
    return pilot.mode === 'pwm' && evCurrentForDutyPct(pilot.dutyPct) > 0;
  }
}

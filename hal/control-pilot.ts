/**
 * What the Control Pilot generator drives (IEC 61851-1 Annex A):
 * - `off`: generator disabled (0 V), the state after construction and `close()`;
 * - `x1`: constant +12 V, "EVSE not ready" (states A1/B1/C1);
 * - `pwm`: ±12 V at 1 kHz with `dutyPct` (states A2/B2/C2);
 * - `F`: constant -12 V, EVSE not available / error;
 * - `E`: 0 V on purpose (CP disconnect, wake-up, phase switch pause).
 */
export type PilotOutput = { readonly mode: 'off' | 'x1' | 'F' | 'E' } | { readonly mode: 'pwm'; readonly dutyPct: number };

export type PilotMode = PilotOutput['mode'];

/** One measurement of the CP line: the high and the low plateau of the square wave, in volts. */
export interface PilotSample {
  readonly highV: number;
  readonly lowV: number;
}

export interface ControlPilot {
  drive(output: PilotOutput): void;
  /** What is driven now. */
  readonly output: PilotOutput;
  /** The latest high/low plateau measurement. */
  sample(): PilotSample;
  /**
   * Called by the driver as soon as a new measurement differs from the one before (the car
   * switched its resistors, a short, the ADC failing), so that the control loop reads the line at
   * once instead of at its next pass: the contactor must open within 100 ms of the car leaving C
   * (IEC 61851-1 Table A.6 seq. 2.2, 8.1). Set by the charging controller; null = nobody listens.
   */
  onChange: (() => void) | null;
  /** Stops the generator (0 V) and releases the driver. */
  close(): void;
}

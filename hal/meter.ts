/** One reading of the energy meter in the car's supply. Arrays are per phase: L1, L2, L3. */
export interface MeterReading {
  /** Energy imported since the meter was made, Wh. */
  readonly energyWh: number;
  /** Active power, W. */
  readonly powerW: number;
  readonly currentsA: readonly [number, number, number];
  readonly voltagesV: readonly [number, number, number];
  /** When the reading was taken (clock ms). */
  readonly atMs: number;
}

export interface Meter {
  /** The most recent reading, or null when the meter has never answered. */
  latest(): MeterReading | null;
  close(): void;
}

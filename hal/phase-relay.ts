/** Number of mains phases switched through to the car. */
export type PhaseCount = 1 | 3;

/**
 * The 1p/3p relay in front of the contactor. De-energised it passes every wired phase (3);
 * energised it passes L1 only. It must only switch while the contactor is open.
 */
export interface PhaseRelay {
  setPhases(phases: PhaseCount): void;
  readonly phases: PhaseCount;
  /** Releases the coil (back to three phases) and the driver. */
  close(): void;
}

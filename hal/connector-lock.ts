/** The actuator that locks the plug in the socket, with its position feedback. */
export interface ConnectorLock {
  setLocked(locked: boolean): void;
  readonly commandedLocked: boolean;
  /** The feedback switch: true while the lock pin is engaged. */
  feedbackLocked(): boolean;
  /** Releases the driver; the actuator keeps its position. */
  close(): void;
}

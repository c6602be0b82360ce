/** Hardware fault inputs that the firmware supervises. */
export interface FaultInputs {
  /** The residual current device (RCD / 6 mA DC detector) has tripped. */
  rcdTripped(): boolean;
  /**
   * Runs the RCD's self-test (a test current through the sensor); resolves true when the device
   * tripped on the test current and released again. Only called with the contactor open.
   */
  selfTestRcd(): Promise<boolean>;
  close(): void;
}

/** Hardware fault inputs that the firmware supervises. */
export interface FaultInputs {
  /** The residual current device (RCD / 6 mA DC detector) has tripped. */
  rcdTripped(): boolean;
  close(): void;
}

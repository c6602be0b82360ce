/**
 * The main contactor that connects the car to the mains, with its auxiliary (mirror) contact.
 * Safety: the coil is de-energised (contacts open) after construction and after `close()`.
 */
export interface Contactor {
  /** Energises (true) or releases (false) the coil. */
  setClosed(closed: boolean): void;
  /** What the coil was last commanded to. */
  readonly commandedClosed: boolean;
  /** The mirror contact as the hardware reports it: true while the main contacts are closed. */
  mirrorClosed(): boolean;
  /** Releases the coil and the driver. */
  close(): void;
}

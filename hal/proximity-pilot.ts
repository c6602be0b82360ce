/** The Proximity Pilot of a Type 2 socket: the cable's coding resistor Rc between PP and PE. */
export interface ProximityPilot {
  /** Rc in ohms; `Infinity` when no plug is inserted (PP open). */
  resistanceOhm(): number;
  close(): void;
}

/**
 * The grid operator's control input (§14a EnWG): a potential-free relay contact of the operator's
 * control box (FNN Steuerbox) or ripple control receiver. Which state means "limit" is the
 * installer's setting (`grid.activeWhen`), not the driver's business.
 */
export interface GridContact {
  /** The contact is closed now (debounced). */
  closed(): boolean;
  close(): void;
}

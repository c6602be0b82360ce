import type { CpState } from '../charging/pilot-reader.js';
import { blocksCharging, type Fault } from '../safety/faults.js';

const CODE: Readonly<Record<CpState, number>> = { A: 0, B: 1, C: 2, D: 3, E: 4, F: 5 };

/**
 * Register 8092 (cFos map): the IEC 61851 state in the low byte, 0 = A … 5 = F. A fault that
 * stops charging reads 5, the error state, whatever the car shows; a lost meter does not, since
 * charging goes on (CONTRACT §6).
 */
export function evseStateCode(status: { readonly cp: CpState | null; readonly faults: readonly Fault[] }): number {
  if (status.faults.some((f) => blocksCharging(f.kind))) return CODE.F;
  return CODE[status.cp ?? 'A'];
}

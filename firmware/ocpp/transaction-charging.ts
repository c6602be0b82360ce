import { waitFor, type Clock } from '../../hal/clock.js';
import type { ChargingPort } from '../charging/port.js';
import type { Logger } from '../log.js';
import type { TxQueue } from './model/tx-queue.js';
import type { StopReason } from './transaction-types.js';

/**
 * The normal ends of a transaction, after which the cable is unlocked (OCPP 1.6 §4.10). Not the
 * restarts (the box comes back to the same car) and not UnlockCommand (the operation unlocks).
 */
const UNLOCK_AT_END: ReadonlySet<StopReason> = new Set(['Local', 'Remote', 'DeAuthorized', 'Other']);
/** How long the end of a transaction waits for the charging core to open the contactor before it asks to unlock (its stop sequence takes up to 3 s). */
const UNLOCK_WAIT_MS = 5000;

export interface TransactionChargingDeps {
  readonly charging: ChargingPort;
  readonly queue: Pick<TxQueue, 'onDurable'>;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * What a transaction does to the charging core beyond its permission: the hold while its start
 * is not on disk, and the unlock of the cable at its normal end.
 */
export class TransactionCharging {
  readonly #o: TransactionChargingDeps;
  /** Ends the wait of a transaction held until its start is on disk (it ended first). */
  #releaseHold: (() => void) | null = null;

  constructor(deps: TransactionChargingDeps) {
    this.#o = deps;
  }

  /**
   * dataDir cannot be written: the transaction is authorised and runs, but the PWM stays off
   * (SuspendedEVSE, pausedBy storage) until the journal has its start on disk, or it ends
   * (`release`). `held` follows the pause at once (the permission and the status).
   */
  async holdUntilOnDisk(localId: number, held: () => void): Promise<void> {
    this.#o.log.error('transaction start not on disk: charging held until it is', { localId });
    this.#o.charging.setStoragePaused(true);
    held();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        unsubscribe();
        this.#releaseHold = null;
        resolve();
      };
      const unsubscribe = this.#o.queue.onDurable(done);
      this.#releaseHold = done;
    });
    this.#o.charging.setStoragePaused(false);
  }

  /** The held transaction ended: its hold is over. */
  release(): void {
    this.#releaseHold?.();
  }

  /**
   * OCPP 1.6 §4.10: "as part of the normal transaction termination, the Charge Point SHALL unlock
   * the cable". Through the charging core's unlock path, once its stop sequence has opened the
   * contactor: the lock never releases while the supply is live. `stillWanted`: no new
   * transaction and the car still plugged in.
   */
  async unlockAtEnd(reason: StopReason, stillWanted: () => boolean): Promise<void> {
    if (!UNLOCK_AT_END.has(reason)) return;
    const { charging, clock, log } = this.#o;
    await waitFor(clock, () => !charging.status().contactorClosed, UNLOCK_WAIT_MS, 50);
    if (!stillWanted()) return;
    const result = await charging.unlockConnector();
    if (result === 'UnlockFailed') log.warn('cable not unlocked at the end of the transaction', { result });
  }
}

import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { ChargingPort } from '../charging/port.js';
import type { Logger } from '../log.js';
import {
  profileProblem,
  type ChargingProfile,
  type ChargingRateUnit,
  type ChargingSchedule,
  type ClearCriteria,
  type InstalledProfile,
} from './model/charging-profile.js';
import { compositeSchedule, limitAt, type ScheduleTransaction } from './model/charging-schedule.js';
import type { OcppConfiguration } from './model/configuration.js';
import type { ProfileStore } from './model/profile-store.js';
import type { Transaction } from './transactions.js';

export interface SmartChargingOptions {
  readonly store: ProfileStore;
  readonly charging: ChargingPort;
  readonly configuration: OcppConfiguration;
  readonly clock: Clock;
  readonly log: Logger;
  readonly connectorId: number;
  /** `evse.voltageV`, for W → A. */
  readonly voltageV: number;
  /** `evse.maxCurrentA`: what a composite schedule shows where no profile limits. */
  readonly maxCurrentA: number;
  /** OCPP time now, ms (the clock the central system's profiles are written in). */
  readonly nowMs: () => number;
  /** The running transaction, null when none. */
  readonly transaction: () => Transaction | null;
  /** `ocpp.offlineLimitA` while it applies (null: not now); it only ever lowers the profiles' limit. */
  readonly offlineLimitA?: () => number | null;
}

export interface CompositeAnswer {
  readonly status: 'Accepted' | 'Rejected';
  readonly connectorId?: number;
  readonly scheduleStart?: string;
  readonly chargingSchedule?: ChargingSchedule;
}

/** setTimeout cannot wait longer than 2^31 - 1 ms; a later change is looked at again after a day. */
const LONGEST_WAIT_MS = 86_400_000;

/**
 * OCPP Smart Charging on the charge point: installs and clears profiles, answers
 * GetCompositeSchedule, and hands the charging core the limit of the profiles in force, again at
 * every period boundary (one timer to the next change), when a transaction starts or ends, when
 * the phases energised change (W → A) and when the OCPP clock is set. A numberPhases of 1 asks
 * for a switch to one phase where 1p/3p switching is enabled.
 */
export class SmartCharging {
  readonly #o: SmartChargingOptions;
  readonly #log: Logger;
  #timer: TimerHandle | null = null;
  #phasesUsed = 0;
  #askedOnePhase = false;
  #stopped = false;

  constructor(options: SmartChargingOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'smart-charging' });
    options.charging.onChange((status) => {
      if (status.phases !== this.#phasesUsed) this.apply();
    });
  }

  /** SetChargingProfile: Accepted when the charge point can honour the profile. */
  async set(connectorId: number, profile: ChargingProfile): Promise<'Accepted' | 'Rejected'> {
    const entry: InstalledProfile = { connectorId, profile };
    const problem = this.problem(entry);
    if (problem !== null) {
      this.#log.warn('charging profile rejected', { chargingProfileId: profile.chargingProfileId, problem });
      return 'Rejected';
    }
    await this.#change(() => this.#o.store.install(entry));
    this.#log.info('charging profile installed', {
      connectorId,
      chargingProfileId: profile.chargingProfileId,
      purpose: profile.chargingProfilePurpose,
      stackLevel: profile.stackLevel,
    });
    return 'Accepted';
  }

  /** Why `entry` cannot be installed now; null when it can. */
  problem(entry: InstalledProfile, tx: { transactionId: number | null } | null = this.#o.transaction()): string | null {
    const { configuration } = this.#o;
    const rules = {
      connectorId: this.#o.connectorId,
      maxStackLevel: configuration.integer('ChargeProfileMaxStackLevel'),
      allowedUnits: configuration.units('ChargingScheduleAllowedChargingRateUnit'),
      maxPeriods: configuration.integer('ChargingScheduleMaxPeriods'),
      maxInstalled: configuration.integer('MaxChargingProfilesInstalled'),
    };
    return profileProblem(entry, this.#o.store.profiles, rules, tx);
  }

  /** ClearChargingProfile: Accepted when at least one profile was removed, else Unknown. */
  async clear(criteria: ClearCriteria): Promise<'Accepted' | 'Unknown'> {
    let removed = 0;
    await this.#change(async () => {
      removed = await this.#o.store.clear(criteria);
    });
    this.#log.info('charging profiles cleared', { ...criteria, removed });
    return removed > 0 ? 'Accepted' : 'Unknown';
  }

  /**
   * GetCompositeSchedule from now for `durationS`, in `unit` (A when not asked). Without a
   * transaction it shows what a transaction starting now would get. The start is now to the
   * millisecond: rounded down to the second it could fall before the transaction's start and
   * show a moment without its profile.
   */
  composite(connectorId: number, durationS: number, unit: ChargingRateUnit = 'A'): CompositeAnswer {
    if (connectorId !== 0 && connectorId !== this.#o.connectorId) return { status: 'Rejected' };
    const startMs = this.#o.nowMs();
    const chargingSchedule = compositeSchedule(this.#o.store.profiles, {
      connectorId: this.#o.connectorId,
      startMs,
      durationS,
      unit,
      tx: this.#scheduleTransaction() ?? { startMs },
      conversion: this.#conversion(),
      defaultLimitA: this.#o.maxCurrentA,
    });
    return { status: 'Accepted', connectorId, scheduleStart: new Date(startMs).toISOString(), chargingSchedule };
  }

  /**
   * A transaction started (with the TxProfile of its RemoteStartTransaction, if any) or ended
   * (its TxProfiles end too). Called before the transaction permits charging, so the first PWM
   * already carries the profile's limit.
   */
  transactionChanged(tx: Transaction | null): void {
    const update =
      tx === null
        ? this.#o.store.transactionEnded()
        : tx.chargingProfile === null
          ? null
          : this.#o.store.install({ connectorId: this.#o.connectorId, profile: tx.chargingProfile });
    this.apply();
    update?.catch((err: unknown) => this.#log.error('charging profiles not saved', { reason: (err as Error).message }));
  }

  /** Works out the limit in force now, hands it to the charging core and sets the timer to the next change. */
  apply(): void {
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#stopped) return;
    const nowMs = this.#o.nowMs();
    const conversion = this.#conversion();
    this.#phasesUsed = conversion.phases;
    const limit = limitAt(this.#o.store.profiles, this.#o.connectorId, nowMs, this.#scheduleTransaction(), conversion);
    // Profiles lost at boot: whatever is left may be laxer than what was lost (CONTRACT §6); the
    // comm-loss limit (ocpp.offlineLimitA) only lowers too.
    const lostLimitA = this.#o.store.lostLimitA;
    const offlineA = this.#o.offlineLimitA?.() ?? null;
    const limitA = Math.min(limit.limitA ?? Infinity, lostLimitA ?? Infinity, offlineA ?? Infinity);
    this.#o.charging.setOcppLimit(limitA === Infinity ? null : limitA);
    this.#askPhases(limit.numberPhases === 1);
    if (Number.isFinite(limit.nextChangeMs)) {
      this.#timer = this.#o.clock.setTimeout(() => this.apply(), Math.min(limit.nextChangeMs - nowMs, LONGEST_WAIT_MS));
    }
  }

  stop(): void {
    this.#stopped = true;
    this.apply();
  }

  /** The store changes in memory at once; the limit follows before the answer goes out. */
  async #change(update: () => Promise<unknown>): Promise<void> {
    const saved = update();
    this.apply();
    await saved;
  }

  /** numberPhases 1 asks for one phase; when no profile asks any more, three phases come back. */
  #askPhases(onePhase: boolean): void {
    if (onePhase === this.#askedOnePhase || !this.#o.charging.phaseSwitchingEnabled) return;
    this.#askedOnePhase = onePhase;
    this.#log.info('charging profile asks for a phase switch', { phases: onePhase ? 1 : 3 });
    this.#o.charging.requestPhases(onePhase ? 1 : 3);
  }

  #scheduleTransaction(): ScheduleTransaction | null {
    const tx = this.#o.transaction();
    return tx === null ? null : { startMs: Date.parse(tx.startedAt) };
  }

  #conversion(): { voltageV: number; phases: number } {
    return { voltageV: this.#o.voltageV, phases: this.#o.charging.status().phases };
  }
}

import { LOST_PROFILES_LIMIT_A } from './model/profile-store.js';
import type { StorageProblem } from './model/connector-status.js';

export interface StorageState {
  /** Why the availability file could not be read; null when it could. */
  readonly availabilityLost: string | null;
  /** Why the charging profiles could not be read; null when they could. */
  readonly profilesLost: string | null;
  /** Whether the transaction journal has everything on disk. */
  readonly journalDurable: boolean;
  /** What the journal lost at boot, and why the open-transaction marker could not be read (null: nothing). */
  readonly journalDamage: { readonly journal: string | null; readonly marker: string | null };
}

/**
 * State files read back damaged or a journal that cannot be written, with the safe side taken
 * (status API, web page); the first is reported to the central system as InternalError (README).
 */
export function storageProblems(state: StorageState): StorageProblem[] {
  const problems: StorageProblem[] = [];
  if (state.availabilityLost !== null)
    problems.push({
      file: 'ocpp-availability.json',
      problem: state.availabilityLost,
      safeSide: 'Inoperative until ChangeAvailability',
      info: 'availability unreadable: Inoperative',
    });
  if (state.profilesLost !== null)
    problems.push({
      file: 'ocpp-charging-profiles.json',
      problem: state.profilesLost,
      safeSide: `at most ${LOST_PROFILES_LIMIT_A} A until a profile is sent`,
      info: `charging profiles lost: ${LOST_PROFILES_LIMIT_A} A until sent again`,
    });
  if (state.journalDamage.journal !== null)
    problems.push({
      file: 'ocpp-transactions.jsonl',
      problem: state.journalDamage.journal,
      safeSide: 'open transactions closed from ocpp-open-transactions.json; confirmed stops never sent again',
      info: 'transaction journal damaged: closed from marker',
    });
  if (state.journalDamage.marker !== null)
    problems.push({
      file: 'ocpp-open-transactions.json',
      problem: state.journalDamage.marker,
      safeSide: 'its previous generation, else the journal alone',
      info: 'open-transaction marker unreadable',
    });
  if (!state.journalDurable)
    problems.push({
      file: 'ocpp-transactions.jsonl',
      problem: 'cannot be written',
      safeSide: 'no new charging until its start is on disk; messages wait in memory',
      info: 'dataDir not writable: messages held',
    });
  return problems;
}

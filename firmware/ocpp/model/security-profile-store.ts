import { Type, type Static } from '@sinclair/typebox';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import { readStoredJson, saveFile } from '../../store/atomic-file.js';
import type { SecurityProfile } from './security-profile.js';
import { storedCheck } from './stored-check.js';

const Level = Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2), Type.Literal(3)]);

/** `dataDir/ocpp-security.json`: a raised profile, kept with the profile the config file gave when it was raised (a changed file wins again). */
const StoredProfileSchema = Type.Union([Type.Null(), Type.Object({ profile: Level, fileProfile: Level })]);
export type StoredProfile = NonNullable<Static<typeof StoredProfileSchema>>;

const isStoredProfile = storedCheck(StoredProfileSchema);

const FILE = 'ocpp-security.json';

/** The profile the central system raised to, if it was raised from `fileProfile` (the config file's now). */
export async function readRaisedProfile(
  dataDir: string | null,
  fileProfile: SecurityProfile,
  log: Logger,
): Promise<SecurityProfile | null> {
  if (dataDir === null) return null;
  const stored = await readStoredJson<StoredProfile | null>(join(dataDir, FILE), null, isStoredProfile, log);
  return stored !== null && stored.fileProfile === fileProfile && stored.profile > fileProfile ? stored.profile : null;
}

/** Keeps a raised profile (`dataDir` null: not kept). */
export async function saveRaisedProfile(dataDir: string | null, stored: StoredProfile, log: Logger): Promise<void> {
  if (dataDir === null) return;
  await saveFile(join(dataDir, FILE), JSON.stringify(stored), log);
}

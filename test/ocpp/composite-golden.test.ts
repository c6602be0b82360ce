import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import {
  profileProblem,
  type ChargingRateUnit,
  type ChargingSchedule,
  type InstalledProfile,
} from '../../firmware/ocpp/model/charging-profile.js';
import { compositeSchedule, type Conversion } from '../../firmware/ocpp/model/charging-schedule.js';
import { checkPayload } from '../../firmware/ocpp/schemas.js';

/**
 * GetCompositeSchedule golden files (test/ocpp/composite-golden/*.json), each written by hand
 * from the OCPP 1.6 smart-charging rules: the profiles installed, the moment asked, the running
 * transaction's start (null: none), and the composite schedule the charge point must answer.
 */

interface GoldenCase {
  readonly description: string;
  readonly now: string;
  readonly transactionStart: string | null;
  readonly conversion: Conversion;
  readonly defaultLimitA: number;
  readonly profiles: readonly InstalledProfile[];
  readonly request: { readonly connectorId: number; readonly duration: number; readonly chargingRateUnit?: ChargingRateUnit };
  readonly expected: ChargingSchedule;
}

const folder = new URL('./composite-golden/', import.meta.url);
const files = readdirSync(folder)
  .filter((f) => f.endsWith('.json'))
  .sort();
const RULES = { connectorId: 1, maxStackLevel: 8, allowedUnits: ['A', 'W'] as const, maxPeriods: 96, maxInstalled: 16 };

t.ok(files.length >= 30, `${files.length} golden cases`);

for (const file of files) {
  const golden = JSON.parse(readFileSync(new URL(file, folder), 'utf8')) as GoldenCase;
  t.test(`${file}: ${golden.description}`, async (t) => {
    golden.profiles.forEach((entry, i) => {
      t.equal(
        checkPayload('SetChargingProfile', 'Request', { connectorId: entry.connectorId, csChargingProfiles: entry.profile }),
        null,
        `profile ${i + 1} is a valid SetChargingProfile`,
      );
      const tx = entry.profile.chargingProfilePurpose === 'TxProfile' ? { transactionId: null } : null;
      t.equal(profileProblem(entry, golden.profiles.slice(0, i), RULES, tx), null, `profile ${i + 1} is one the charge point accepts`);
    });
    const schedule = compositeSchedule(golden.profiles, {
      connectorId: golden.request.connectorId,
      startMs: Date.parse(golden.now),
      durationS: golden.request.duration,
      unit: golden.request.chargingRateUnit ?? 'A',
      tx: golden.transactionStart === null ? null : { startMs: Date.parse(golden.transactionStart) },
      conversion: golden.conversion,
      defaultLimitA: golden.defaultLimitA,
    });
    t.strictSame(schedule, golden.expected);
    const answer = {
      status: 'Accepted',
      connectorId: golden.request.connectorId,
      scheduleStart: schedule.startSchedule,
      chargingSchedule: schedule,
    };
    t.equal(checkPayload('GetCompositeSchedule', 'Response', answer), null, 'the answer passes the official schema');
  });
}

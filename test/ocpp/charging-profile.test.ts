import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { storedJson } from '../helpers/damage.js';
import { silentLogger } from '../../firmware/log.js';
import {
  matchesClear,
  profileProblem,
  type InstalledProfile,
  type ProfileRules,
  type RunningTransaction,
} from '../../firmware/ocpp/model/charging-profile.js';
import { LOST_PROFILES_LIMIT_A, ProfileStore } from '../../firmware/ocpp/model/profile-store.js';
import { checkPayload } from '../../firmware/ocpp/schemas.js';
import { chargingProfile as profile } from '../helpers/smart-rig.js';

/** What SetChargingProfile accepts and rejects, the replacement rule, ClearChargingProfile's selection, and the store on disk. */

const RULES: ProfileRules = { connectorId: 1, maxStackLevel: 8, allowedUnits: ['A', 'W'], maxPeriods: 96, maxInstalled: 16 };
const TX = { transactionId: 7 };

const accepted: Array<[string, InstalledProfile, ProfileRules?, RunningTransaction?]> = [
  ['a TxDefaultProfile on the connector', { connectorId: 1, profile: profile() }],
  ['a TxDefaultProfile on connector 0', { connectorId: 0, profile: profile() }],
  ['a ChargePointMaxProfile on connector 0', { connectorId: 0, profile: profile({ chargingProfilePurpose: 'ChargePointMaxProfile' }) }],
  [
    'a TxProfile for the running transaction',
    { connectorId: 1, profile: profile({ chargingProfilePurpose: 'TxProfile', transactionId: 7 }) },
    RULES,
    TX,
  ],
  [
    'a TxProfile without transactionId during a transaction',
    {
      connectorId: 1,
      profile: profile({ chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative' }, { startSchedule: undefined }),
    },
    RULES,
    TX,
  ],
  ['stack level = ChargeProfileMaxStackLevel', { connectorId: 1, profile: profile({ stackLevel: 8 }) }],
  [
    '96 periods',
    {
      connectorId: 1,
      profile: profile(
        {},
        { chargingSchedulePeriod: Array.from({ length: 96 }, (_, i) => ({ startPeriod: i * 900, limit: 6 + (i % 10) })) },
      ),
    },
  ],
  ['a Recurring Weekly profile', { connectorId: 1, profile: profile({ chargingProfileKind: 'Recurring', recurrencyKind: 'Weekly' }) }],
  [
    'a W profile with numberPhases 1',
    {
      connectorId: 1,
      profile: profile({}, { chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 3680, numberPhases: 1 }] }),
    },
  ],
];

for (const [what, entry, rules = RULES, tx = null] of accepted) {
  t.test(`accepted: ${what}`, async (t) => {
    t.equal(
      checkPayload('SetChargingProfile', 'Request', { connectorId: entry.connectorId, csChargingProfiles: entry.profile }),
      null,
      'valid by the schema',
    );
    t.equal(profileProblem(entry, [], rules, tx), null);
  });
}

const installed16 = Array.from({ length: 16 }, (_, i): InstalledProfile => ({
  connectorId: 1,
  profile: profile({ chargingProfileId: 100 + i, stackLevel: i % 9 }),
}));
const rejected: Array<[string, InstalledProfile, RegExp, RunningTransaction?, ProfileRules?, InstalledProfile[]?]> = [
  ['stack level above ChargeProfileMaxStackLevel', { connectorId: 1, profile: profile({ stackLevel: 9 }) }, /stackLevel/],
  ['a negative stack level', { connectorId: 1, profile: profile({ stackLevel: -1 }) }, /stackLevel/],
  ['an unknown connector', { connectorId: 2, profile: profile() }, /connector 2/],
  [
    'a TxProfile without a transaction',
    { connectorId: 1, profile: profile({ chargingProfilePurpose: 'TxProfile' }) },
    /without a transaction/,
  ],
  [
    'a TxProfile for another transaction',
    { connectorId: 1, profile: profile({ chargingProfilePurpose: 'TxProfile', transactionId: 8 }) },
    /not the running/,
    TX,
  ],
  [
    'a TxProfile with a transactionId before StartTransaction.conf',
    { connectorId: 1, profile: profile({ chargingProfilePurpose: 'TxProfile', transactionId: 8 }) },
    /not the running/,
    { transactionId: null },
  ],
  ['a TxProfile on connector 0', { connectorId: 0, profile: profile({ chargingProfilePurpose: 'TxProfile' }) }, /needs a connector/, TX],
  [
    'a ChargePointMaxProfile on connector 1',
    { connectorId: 1, profile: profile({ chargingProfilePurpose: 'ChargePointMaxProfile' }) },
    /connector 0/,
  ],
  [
    'a Relative ChargePointMaxProfile',
    { connectorId: 0, profile: profile({ chargingProfilePurpose: 'ChargePointMaxProfile', chargingProfileKind: 'Relative' }) },
    /Relative/,
  ],
  [
    'an Absolute ChargePointMaxProfile without startSchedule',
    { connectorId: 0, profile: profile({ chargingProfilePurpose: 'ChargePointMaxProfile' }, { startSchedule: undefined }) },
    /startSchedule/,
  ],
  ['a transactionId in a TxDefaultProfile', { connectorId: 1, profile: profile({ transactionId: 7 }) }, /only in a TxProfile/, TX],
  ['Recurring without recurrencyKind', { connectorId: 1, profile: profile({ chargingProfileKind: 'Recurring' }) }, /recurrencyKind/],
  [
    'Recurring without startSchedule',
    { connectorId: 1, profile: profile({ chargingProfileKind: 'Recurring', recurrencyKind: 'Daily' }, { startSchedule: undefined }) },
    /startSchedule/,
  ],
  [
    'validTo before validFrom',
    { connectorId: 1, profile: profile({ validFrom: '2026-03-02T10:00:00Z', validTo: '2026-03-02T09:00:00Z' }) },
    /validTo/,
  ],
  [
    '97 periods',
    {
      connectorId: 1,
      profile: profile({}, { chargingSchedulePeriod: Array.from({ length: 97 }, (_, i) => ({ startPeriod: i * 900, limit: 6 })) }),
    },
    /more than 96/,
  ],
  ['no periods', { connectorId: 1, profile: profile({}, { chargingSchedulePeriod: [] }) }, /no periods/],
  [
    'periods out of order',
    {
      connectorId: 1,
      profile: profile(
        {},
        {
          chargingSchedulePeriod: [
            { startPeriod: 600, limit: 6 },
            { startPeriod: 0, limit: 8 },
          ],
        },
      ),
    },
    /increasing/,
  ],
  [
    'two periods at the same start',
    {
      connectorId: 1,
      profile: profile(
        {},
        {
          chargingSchedulePeriod: [
            { startPeriod: 0, limit: 6 },
            { startPeriod: 0, limit: 8 },
          ],
        },
      ),
    },
    /increasing/,
  ],
  [
    'a negative limit',
    { connectorId: 1, profile: profile({}, { chargingSchedulePeriod: [{ startPeriod: 0, limit: -1 }] }) },
    /negative limit/,
  ],
  [
    'numberPhases 0',
    { connectorId: 1, profile: profile({}, { chargingSchedulePeriod: [{ startPeriod: 0, limit: 6, numberPhases: 0 }] }) },
    /numberPhases/,
  ],
  [
    'numberPhases 4',
    { connectorId: 1, profile: profile({}, { chargingSchedulePeriod: [{ startPeriod: 0, limit: 6, numberPhases: 4 }] }) },
    /numberPhases/,
  ],
  ['a negative duration', { connectorId: 1, profile: profile({}, { duration: -5 }) }, /duration/],
  [
    'W when only Current is allowed',
    { connectorId: 1, profile: profile({}, { chargingRateUnit: 'W' }) },
    /unit W/,
    null,
    { ...RULES, allowedUnits: ['A'] },
  ],
  ['A when only Power is allowed', { connectorId: 1, profile: profile() }, /unit A/, null, { ...RULES, allowedUnits: ['W'] }],
  [
    'a 17th profile',
    { connectorId: 1, profile: profile({ chargingProfileId: 99, stackLevel: 0 }) },
    /already 16/,
    null,
    RULES,
    installed16.map((e) => ({ ...e, connectorId: 0 })),
  ],
];

for (const [what, entry, reason, tx = null, rules = RULES, installed = []] of rejected) {
  t.test(`rejected: ${what}`, async (t) => {
    t.match(profileProblem(entry, installed, rules, tx), reason);
  });
}

t.test(
  'a profile that replaces one (same id, or same purpose, stack level and connector) does not count against MaxChargingProfilesInstalled',
  async (t) => {
    t.equal(profileProblem({ connectorId: 1, profile: profile({ chargingProfileId: 100 }) }, installed16, RULES, null), null, 'same id');
    t.equal(
      profileProblem({ connectorId: 1, profile: profile({ chargingProfileId: 999, stackLevel: 3 }) }, installed16, RULES, null),
      null,
      'same purpose, stack level and connector',
    );
    t.match(
      profileProblem({ connectorId: 0, profile: profile({ chargingProfileId: 999, stackLevel: 3 }) }, installed16, RULES, null),
      /already 16/,
      'another connector replaces nothing',
    );
  },
);

t.test('ClearChargingProfile: by id alone, or by every criterion given', async (t) => {
  const entry: InstalledProfile = { connectorId: 1, profile: profile({ chargingProfileId: 5, stackLevel: 2 }) };
  t.ok(matchesClear(entry, {}), 'no criteria: everything');
  t.ok(matchesClear(entry, { id: 5, connectorId: 0 }), 'by id, the other fields ignored');
  t.notOk(matchesClear(entry, { id: 6 }));
  t.ok(matchesClear(entry, { connectorId: 1, chargingProfilePurpose: 'TxDefaultProfile', stackLevel: 2 }));
  t.notOk(matchesClear(entry, { connectorId: 1, stackLevel: 3 }));
  t.notOk(matchesClear(entry, { chargingProfilePurpose: 'TxProfile' }));
  t.notOk(matchesClear(entry, { connectorId: 0 }));
});

t.test('limits like 0.3 and 48.3 pass the schema (multipleOf 0.1 in floating point)', async (t) => {
  for (const limit of [0.3, 0.7, 48.3, 15.9, 10.5]) {
    const entry = profile({}, { chargingSchedulePeriod: [{ startPeriod: 0, limit }] });
    t.equal(checkPayload('SetChargingProfile', 'Request', { connectorId: 1, csChargingProfiles: entry }), null, String(limit));
  }
  t.not(
    checkPayload('SetChargingProfile', 'Request', {
      connectorId: 1,
      csChargingProfiles: profile({}, { chargingSchedulePeriod: [{ startPeriod: 0, limit: 10.55 }] }),
    }),
    null,
    '10.55 is not a multiple of 0.1',
  );
});

t.test('the store: replaces, clears, keeps profiles across a restart, drops TxProfiles at load, sets a damaged file aside', async (t) => {
  const dir = t.testdir({});
  const store = await ProfileStore.load(dir, silentLogger);
  await store.install({ connectorId: 1, profile: profile({ chargingProfileId: 1, stackLevel: 1 }) });
  await store.install({ connectorId: 1, profile: profile({ chargingProfileId: 2, stackLevel: 1 }) });
  t.same(
    store.profiles.map((e) => e.profile.chargingProfileId),
    [2],
    'same purpose, stack level and connector replaced',
  );
  await store.install({ connectorId: 0, profile: profile({ chargingProfileId: 3, chargingProfilePurpose: 'ChargePointMaxProfile' }) });
  await store.install({ connectorId: 1, profile: profile({ chargingProfileId: 4, chargingProfilePurpose: 'TxProfile' }) });
  const restarted = await ProfileStore.load(dir, silentLogger);
  t.same(
    restarted.profiles.map((e) => e.profile.chargingProfileId),
    [2, 3],
    'after a restart: the TxProfile is gone with its transaction',
  );
  t.same(storedJson(join(dir, 'ocpp-charging-profiles.json')).profiles.length, 2, 'and the file says so too');
  t.equal(await restarted.clear({ chargingProfilePurpose: 'ChargePointMaxProfile' }), 1);
  t.equal(await restarted.clear({ id: 42 }), 0);
  t.same(
    (await ProfileStore.load(dir, silentLogger)).profiles.map((e) => e.profile.chargingProfileId),
    [2],
  );

  const errors: string[] = [];
  const log = { ...silentLogger, error: (msg: string) => void errors.push(msg), child: () => log } as typeof silentLogger;
  for (const damaged of ['{"truncat', JSON.stringify([{ connectorId: 1, profile: { chargingProfileId: 'x' } }])]) {
    await writeFile(join(dir, 'ocpp-charging-profiles.json'), damaged);
    const loaded = await ProfileStore.load(dir, log);
    t.equal(loaded.lostLimitA, LOST_PROFILES_LIMIT_A, 'capped until the central system sends profiles again (README)');
    t.equal(await readFile(join(dir, 'ocpp-charging-profiles.json.corrupt'), 'utf8'), damaged, 'and is set aside');
  }
  t.equal(errors.filter((msg) => msg.startsWith('charging profiles unreadable')).length, 2, 'each reported');
  await ProfileStore.remove(dir);
  await ProfileStore.remove(dir);
  t.pass('removing twice is fine');
});

import t from 'tap';
import { codeableCurrentA, MIN_CURRENT_A } from '../../firmware/charging/duty.js';
import type {
  ChargingProfile,
  ChargingProfilePurpose,
  ChargingSchedulePeriod,
  InstalledProfile,
} from '../../firmware/ocpp/model/charging-profile.js';
import { charging } from '../helpers/sim-rig.js';
import { prng, pick } from '../helpers/prng.js';
import { EPOCH_MS, smartRig } from '../helpers/smart-rig.js';

/**
 * Property: for random charging profiles and random Modbus limits, over two hours of simulated
 * time, the current on the pilot never exceeds the Modbus limit nor the profiles' limit, and the
 * offer is exactly min(box, cable, Modbus, profiles) (0 below 6 A). The profiles' limit comes
 * from a brute-force oracle written here, not from the firmware's schedule code.
 */

const SEQUENCES = 30;
const STEPS = 300;
const VOLTS_X_PHASES = 230 * 3;
const HOUR_S = 3600;

t.test(`${SEQUENCES} random sequences of profiles and Modbus limits`, async (t) => {
  for (let seed = 1; seed <= SEQUENCES; seed++) {
    const violation = await runSequence(seed);
    if (violation !== null) {
      t.fail(`seed ${seed}: ${violation}`);
      return;
    }
  }
  t.pass(`${SEQUENCES} × ${STEPS} checks, no offer above a limit`);
});

async function runSequence(seed: number): Promise<string | null> {
  const random = prng(seed);
  const rig = await smartRig({}, 1000);
  const originMs = rig.clock.now();
  const ocppNow = (): number => EPOCH_MS + rig.clock.now() - originMs;
  const txStartMs = ocppNow();
  rig.startTransaction();
  charging(rig);
  const count = 1 + Math.floor(random() * 6);
  for (let id = 1; id <= count; id++) {
    const entry = randomProfile(random, id, txStartMs);
    await rig.set(entry.connectorId, entry.profile);
  }
  let modbusA = 32;
  for (let step = 0; step < STEPS; step++) {
    if (random() < 0.2) {
      modbusA = Math.round(random() * 350) / 10;
      rig.controller.setModbusLimit(modbusA, true);
    }
    rig.clock.advance(random() < 0.5 ? 1 + Math.floor(random() * 2000) : Math.floor(random() * 120_000));
    const nowMs = ocppNow();
    const profilesA = oracleA(rig.store.profiles, nowMs, txStartMs);
    const status = rig.controller.status();
    const limitA = Math.min(32, status.cableA ?? Infinity, modbusA, profilesA);
    const expected = limitA >= MIN_CURRENT_A ? codeableCurrentA(limitA) : 0;
    const at = `t=${new Date(nowMs).toISOString()}`;
    if (status.offeredA > modbusA + 1e-9) return `${at}: ${status.offeredA} A on the pilot above Modbus ${modbusA} A`;
    if (status.offeredA > profilesA + 1e-9) return `${at}: ${status.offeredA} A on the pilot above the profiles' ${profilesA} A`;
    if (Math.abs(status.offer.offeredA - expected) > 1e-9)
      return `${at}: offer ${status.offer.offeredA} A, expected ${expected} A (profiles ${profilesA} A, Modbus ${modbusA} A)`;
  }
  return null;
}

function randomProfile(random: () => number, id: number, txStartMs: number): InstalledProfile {
  const purpose = pick<ChargingProfilePurpose>(random, ['ChargePointMaxProfile', 'TxDefaultProfile', 'TxDefaultProfile', 'TxProfile']);
  const connectorId = purpose === 'ChargePointMaxProfile' ? 0 : purpose === 'TxProfile' ? 1 : pick(random, [0, 1]);
  const kind =
    purpose === 'ChargePointMaxProfile'
      ? pick(random, ['Absolute', 'Recurring'] as const)
      : pick(random, ['Absolute', 'Recurring', 'Relative'] as const);
  const unit = pick(random, ['A', 'W'] as const);
  const periods: ChargingSchedulePeriod[] = [];
  let startPeriod = random() < 0.8 ? 0 : Math.floor(random() * 1800);
  for (let i = 0, n = 1 + Math.floor(random() * 6); i < n; i++) {
    const amps = Math.round(random() * 400) / 10;
    periods.push({ startPeriod, limit: unit === 'A' ? amps : Math.round(amps * VOLTS_X_PHASES) });
    startPeriod += 60 + Math.floor(random() * 1800);
  }
  const around = (spreadS: number): string => new Date(txStartMs + Math.floor((random() - 0.5) * 2 * spreadS) * 1000).toISOString();
  const profile: ChargingProfile = {
    chargingProfileId: id,
    stackLevel: Math.floor(random() * 4),
    chargingProfilePurpose: purpose,
    chargingProfileKind: kind,
    ...(kind === 'Recurring' && { recurrencyKind: 'Daily' as const }),
    ...(random() < 0.3 && { validFrom: around(HOUR_S) }),
    ...(random() < 0.3 && { validTo: new Date(txStartMs + Math.floor(random() * 2 * HOUR_S) * 1000).toISOString() }),
    chargingSchedule: {
      chargingRateUnit: unit,
      chargingSchedulePeriod: periods,
      ...(kind !== 'Relative' && { startSchedule: around(kind === 'Recurring' ? 2 * 86_400 : HOUR_S) }),
      ...(random() < 0.4 && { duration: 600 + Math.floor(random() * 2 * HOUR_S) }),
    },
  };
  return { connectorId, profile };
}

/** The profiles' limit at `tMs` in A (Infinity: none), by brute force over every profile. */
function oracleA(installed: readonly InstalledProfile[], tMs: number, txStartMs: number): number {
  const valueAt = (p: ChargingProfile): number | null => {
    if (p.validFrom !== undefined && tMs < Date.parse(p.validFrom)) return null;
    if (p.validTo !== undefined && tMs >= Date.parse(p.validTo)) return null;
    const s = p.chargingSchedule;
    let originMs = s.startSchedule === undefined || p.chargingProfileKind === 'Relative' ? txStartMs : Date.parse(s.startSchedule);
    if (p.chargingProfileKind === 'Recurring') originMs = tMs - ((((tMs - originMs) % 86_400_000) + 86_400_000) % 86_400_000);
    const elapsedS = (tMs - originMs) / 1000;
    if (elapsedS < 0 || (s.duration !== undefined && elapsedS >= s.duration)) return null;
    const started = s.chargingSchedulePeriod.filter((period) => period.startPeriod <= elapsedS);
    const period = started[started.length - 1];
    if (period === undefined) return null;
    return s.chargingRateUnit === 'A' ? period.limit : period.limit / VOLTS_X_PHASES;
  };
  const layer = (purpose: ChargingProfilePurpose, connectorId: number): number | null => {
    const candidates = installed
      .filter((e) => e.profile.chargingProfilePurpose === purpose && e.connectorId === connectorId)
      .map((e) => e.profile);
    candidates.sort((a, b) => b.stackLevel - a.stackLevel);
    for (const p of candidates) {
      const value = valueAt(p);
      if (value !== null) return value;
    }
    return null;
  };
  const tx = layer('TxProfile', 1) ?? layer('TxDefaultProfile', 1) ?? layer('TxDefaultProfile', 0);
  const cap = layer('ChargePointMaxProfile', 0);
  return Math.min(tx ?? Infinity, cap ?? Infinity);
}

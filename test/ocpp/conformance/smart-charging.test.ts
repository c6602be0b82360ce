import t, { type Test } from 'tap';
import { ocppRigFor, type OcppRig } from '../../helpers/ocpp-rig.js';

/**
 * OCA OCPP 1.6 charge-point test cases, Smart Charging profile, as far as the central system's
 * clock bears on them (CONTRACT §5): a bogus currentTime must not lift a profile. The profile
 * maths itself is in test/ocpp/smart-charging*.test.ts and composite-golden.test.ts.
 */

/** Implausible whatever the host clock: before this firmware was built, or at the end of what a timestamp can carry. */
const IMPLAUSIBLE = ['1970-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'];
/** Plausible, but bogus: a synchronised host clock must not take it (an unsynchronised one cannot tell). */
const FUTURE = '2099-01-01T00:00:00.000Z';

/** A 10 A ChargePointMaxProfile valid for the next hour of the box's clock. */
async function capTo10A(t: Test, rig: OcppRig): Promise<void> {
  const nowMs = rig.clock.now();
  const answer = await rig.call('SetChargingProfile', {
    connectorId: 0,
    csChargingProfiles: {
      chargingProfileId: 1,
      stackLevel: 0,
      chargingProfilePurpose: 'ChargePointMaxProfile',
      chargingProfileKind: 'Absolute',
      validFrom: new Date(nowMs - 60_000).toISOString(),
      validTo: new Date(nowMs + 3_600_000).toISOString(),
      chargingSchedule: {
        chargingRateUnit: 'A',
        startSchedule: new Date(nowMs - 60_000).toISOString(),
        chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }],
      },
    },
  });
  t.same(answer, { status: 'Accepted' });
}

const limitA = (rig: OcppRig): number | null => rig.firmware.charging.status().offer.limitA;

for (const synced of [true, false]) {
  const bogus = synced ? [FUTURE, ...IMPLAUSIBLE] : IMPLAUSIBLE;
  t.test(
    `a bogus currentTime (${bogus.map((b) => b.slice(0, 4)).join(', ')}) in Heartbeat does not lift a 10 A ChargePointMaxProfile (host clock ${synced ? '' : 'not '}synchronised)`,
    async (t) => {
      let currentTime = new Date().toISOString();
      const rig = await ocppRigFor(t, {
        config: { sim: { clockSynced: synced } },
        prepare: (cs) => (cs.handlers.Heartbeat = () => ({ currentTime })),
      });
      await capTo10A(t, rig);
      await rig.pace(() => limitA(rig) === 10, 5000);
      for (const time of bogus) {
        currentTime = time;
        const from = rig.cs.calls.length;
        t.same(await rig.call('TriggerMessage', { requestedMessage: 'Heartbeat' }), { status: 'Accepted' });
        await rig.waitCall('Heartbeat', () => true, from);
        await rig.advance(1000);
        t.equal(limitA(rig), 10, `after currentTime ${time}: still 10 A`);
      }
    },
  );
}

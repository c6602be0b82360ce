import t from 'tap';
import { evCurrentForDutyPct } from '../../hal/sim/ev.js';
import { simRig } from '../helpers/sim-rig.js';
import { pick, prng } from '../helpers/prng.js';

/**
 * CONTRACT §4 and §6 as a property: whatever the car, the energy manager and the hardware faults
 * do, in any order and at any time, the contactor is closed only while every rule allows it.
 * Checked every simulated millisecond against the physical truth of the simulated board.
 */

const SEQUENCES = 24;
const EVENTS = 120;
const MIN_OFF_S = 2;
/** CONTRACT §4: a car that stays in C after the PWM stopped is cut off after 6 s. */
const OPEN_UNDER_LOAD_MS = 6000;

t.test('random sequences of car states, limits and faults never break a closing rule', async (t) => {
  for (let seed = 1; seed <= SEQUENCES; seed++) {
    const violation = runSequence(seed);
    if (violation) {
      t.fail(`seed ${seed}: ${violation}`);
      return;
    }
  }
  t.pass(`${SEQUENCES} sequences of ${EVENTS} events held every rule`);
});

function runSequence(seed: number): string | null {
  const random = prng(seed);
  const ventilation = random() < 0.5;
  const rigMaxA = pick(random, [16, 32]);
  const phaseSwitching = { enabled: random() < 0.5, minIntervalS: 30, pauseS: 3 };
  const rig = simRig({ evse: { ventilation, minOffS: MIN_OFF_S, maxCurrentA: rigMaxA, phaseSwitching } });
  let relaySwitchedUnderLoad = false;
  const relay = rig.hal.phaseRelay;
  const setPhases = relay.setPhases.bind(relay);
  relay.setPhases = (phases) => {
    relaySwitchedUnderLoad ||= rig.plant.contactsClosed();
    setPhases(phases);
  };
  const { plant, controller, clock } = rig;
  const startMs = clock.now();
  let modbus = { limitA: 32, enabled: true };
  let outOfChargeStateSinceMs: number | null = clock.now();
  let pwmOffSinceMs: number | null = clock.now();
  let pilotFaultSinceMs: number | null = null;
  let lastOpenMs = -Infinity;
  let wasClosed = false;
  let cableChangedMs = -Infinity;
  let rcdSinceMs: number | null = null;
  let weldSeen = false;
  let stuckOpenSinceMs: number | null = null;
  let closesWhileStuck = 0;

  for (let event = 0; event < EVENTS; event++) {
    const kind = pick(random, ['car', 'car', 'car', 'limit', 'enable', 'fault', 'hardware', 'lock', 'cable', 'delay', 'phases', 'wake']);
    if (kind === 'phases') controller.requestPhases(pick(random, [1, 3] as const));
    if (kind === 'wake') controller.requestCpDisconnect(pick(random, [1, 5, 60]));
    if (kind === 'car') plant.configureEv({ state: pick(random, ['A', 'B', 'C', 'C', 'D'] as const) });
    if (kind === 'limit') modbus = { ...modbus, limitA: pick(random, [0, 5, 6, 10, 13.3, 16, 32, 80]) };
    if (kind === 'enable') modbus = { ...modbus, enabled: random() < 0.7 };
    if (kind === 'limit' || kind === 'enable') controller.setModbusLimit(modbus.limitA, modbus.enabled);
    if (kind === 'fault') plant.setFault(pick(random, ['diode', 'cpShort', 'none', 'none'] as const));
    if (kind === 'hardware')
      plant.setFault(pick(random, ['relayWeld', 'contactorStuckOpen', 'rcd', 'overcurrent', 'meterLost', 'none', 'none'] as const));
    if (kind === 'lock') plant.lockStuckAt = pick(random, [null, null, true, false]);
    if (kind === 'cable') {
      plant.configureEv({ ppCurrentA: pick(random, [0, 13, 20, 32, 63] as const) });
      cableChangedMs = clock.now();
    }
    if (kind === 'delay') plant.configureEv({ followDelayMs: pick(random, [0, 500, 1000, 2900, 8000]) });

    const spanMs = Math.floor(random() * 3000);
    for (let ms = 0; ms < spanMs; ms++) {
      clock.advance(1);
      const now = clock.now();
      const line = plant.lineState();
      const inChargeState = line === 'C' || (line === 'D' && ventilation);
      outOfChargeStateSinceMs = inChargeState ? null : (outOfChargeStateSinceMs ?? now);
      pwmOffSinceMs = plant.pilot.mode === 'pwm' ? null : (pwmOffSinceMs ?? now);
      const pilotFaultPresent = plant.faults.has('cpShort') || (plant.faults.has('diode') && plant.pilot.mode === 'pwm' && line !== 'A');
      pilotFaultSinceMs = pilotFaultPresent ? (pilotFaultSinceMs ?? now) : null;
      const closed = rig.closed();
      rcdSinceMs = plant.faults.has('rcd') ? (rcdSinceMs ?? now) : null;
      // A weld the firmware could see: contacts closed while the coil has been released for 250 ms.
      const releasedAtMs = lastOpenMs === -Infinity ? startMs : lastOpenMs;
      weldSeen ||= plant.faults.has('relayWeld') && !closed && now - releasedAtMs >= 250;
      stuckOpenSinceMs = plant.faults.has('contactorStuckOpen') ? (stuckOpenSinceMs ?? now) : null;
      if (stuckOpenSinceMs === null) closesWhileStuck = 0;

      if (closed && !wasClosed) {
        if (!inChargeState) return `closed at ${now} with the car in ${line}`;
        if (plant.pilot.mode !== 'pwm') return `closed at ${now} without PWM`;
        if (now - lastOpenMs < MIN_OFF_S * 1000) return `closed ${now - lastOpenMs} ms after opening (minOffS ${MIN_OFF_S} s)`;
        if (pilotFaultSinceMs !== null && now - pilotFaultSinceMs > 50) return `closed at ${now} during a pilot fault`;
        if (!plant.lockCommanded || plant.lockStuckAt === false) return `closed at ${now} with the plug unlocked`;
        if (rcdSinceMs !== null) return `closed at ${now} with the RCD tripped`;
        if (weldSeen) return `closed at ${now} after a weld was seen`;
        if (stuckOpenSinceMs !== null && ++closesWhileStuck > 2) return `close attempt ${closesWhileStuck} on a contactor stuck open`;
      }
      if (!closed && wasClosed) lastOpenMs = now;
      if (closed) {
        if (outOfChargeStateSinceMs !== null && now - outOfChargeStateSinceMs > 100)
          return `still closed ${now - outOfChargeStateSinceMs} ms after the car left C`;
        if (pwmOffSinceMs !== null && now - pwmOffSinceMs > OPEN_UNDER_LOAD_MS + 10)
          return `still closed ${now - pwmOffSinceMs} ms after the PWM stopped`;
        // The status is built only while closed, the one place it is looked at (it is most of this loop's own cost).
        const { pilotFault } = controller.status();
        if (pilotFault !== null) return `closed at ${now} with pilot fault ${pilotFault} latched`;
        if (pilotFaultSinceMs !== null && now - pilotFaultSinceMs > 100)
          return `still closed ${now - pilotFaultSinceMs} ms into a pilot fault`;
        if (rcdSinceMs !== null && now - rcdSinceMs > 5) return `still closed ${now - rcdSinceMs} ms after the RCD tripped`;
      }
      if (plant.pilot.mode === 'pwm') {
        const carReadsA = evCurrentForDutyPct(plant.pilot.dutyPct);
        // PP is sampled by the control loop: a new cable counts from the next tick on.
        const cableA = now - cableChangedMs > 5 ? plant.ev.settings.ppCurrentA : Infinity;
        const limitA = Math.min(modbus.limitA, rigMaxA, cableA);
        if (carReadsA > limitA + 1e-9) return `pilot offers ${carReadsA} A above the limit ${limitA} A`;
        if (!modbus.enabled || modbus.limitA < 6) return `PWM on at ${now} while Modbus pauses`;
      }
      if (relaySwitchedUnderLoad) return `phase relay switched at ${now} with the contacts closed`;
      wasClosed = closed;
    }
  }
  return null;
}

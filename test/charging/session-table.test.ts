import t from 'tap';
import type { PilotOutput } from '../../hal/control-pilot.js';
import { dutyPctForCurrent } from '../../firmware/charging/duty.js';
import {
  initialSession,
  stepSession,
  TIMING,
  type SessionAction,
  type SessionInput,
  type SessionState,
} from '../../firmware/charging/session.js';

/**
 * `stepSession`, the safety-critical layer 2 of the charging core, one row per transition or rule:
 * a state, an input, the actions and the next state. Each row cites the clause it checks
 * (IEC 61851-1 Annex A Table A.6 sequence numbers, CONTRACT §4 charging rules, §6 faults).
 */

const NOW = 100_000;
const pwm = (currentA: number): PilotOutput => ({ mode: 'pwm', dutyPct: dutyPctForCurrent(currentA) });

/** Settled, nothing held, contactor open long ago: the state between two sessions. */
const IDLE: SessionState = { ...initialSession(0), lastOpenedAtMs: 0 };
/** PWM at 16 A, contactor closed: charging. */
const CHARGING: SessionState = { ...IDLE, pilot: pwm(16), contactorClosed: true };

const INPUT: SessionInput = {
  nowMs: NOW,
  cp: 'A',
  diodeFault: false,
  offeredA: 16,
  ventilation: false,
  minOffMs: 60_000,
  lockRequired: false,
  lockEngaged: false,
  mirrorClosed: false,
  hold: null,
  unlockRequested: false,
};

interface Row {
  readonly name: string;
  readonly state: SessionState;
  readonly input: Partial<SessionInput>;
  readonly actions: SessionAction[];
  /** Fields of the next state that must hold (the rest is not this row's concern). */
  readonly next?: Partial<SessionState>;
}

const open = (reason: string): SessionAction => ({ type: 'setContactor', closed: false, reason });
const close = (reason: string): SessionAction => ({ type: 'setContactor', closed: true, reason });
const drive = (output: PilotOutput): SessionAction => ({ type: 'drivePilot', output });

const ROWS: Row[] = [
  // --- Table A.6: plug-in, PWM, close (CONTRACT §4 "allowed again") ---
  { name: 'A.6 state A1: no car, +12 V, nothing to do', state: IDLE, input: { cp: 'A' }, actions: [] },
  {
    name: 'A.6 seq. 1.1/3.1 (B1 -> B2): a car in B with an offer of 16 A gets the PWM',
    state: IDLE,
    input: { cp: 'B' },
    actions: [drive(pwm(16))],
    next: { pilot: pwm(16), pilotSinceMs: NOW, contactorClosed: false },
  },
  {
    name: '§4: an offer below 6 A is no PWM (+12 V, state B1)',
    state: IDLE,
    input: { cp: 'B', offeredA: 5.9 },
    actions: [],
    next: { pilot: { mode: 'x1' } },
  },
  {
    name: 'A.6 seq. 4: the car answers the PWM with C, the contactor closes',
    state: { ...IDLE, pilot: pwm(16) },
    input: { cp: 'C' },
    actions: [close('car in C')],
    next: { contactorClosed: true },
  },
  {
    name: 'A.6 seq. 4: C seen before our PWM (C1 -> C2) starts the PWM but does not close yet',
    state: IDLE,
    input: { cp: 'C' },
    actions: [drive(pwm(16))],
    next: { contactorClosed: false },
  },
  {
    name: '§4: never close sooner than evse.minOffS after the last open',
    state: { ...IDLE, pilot: pwm(16), lastOpenedAtMs: NOW - 59_999 },
    input: { cp: 'C', minOffMs: 60_000 },
    actions: [],
    next: { contactorClosed: false },
  },
  {
    name: '§4: closes exactly evse.minOffS after the last open',
    state: { ...IDLE, pilot: pwm(16), lastOpenedAtMs: NOW - 60_000 },
    input: { cp: 'C', minOffMs: 60_000 },
    actions: [close('car in C')],
  },
  {
    name: '§4: state D without evse.ventilation may not charge: no PWM, no close',
    state: { ...IDLE, pilot: pwm(16) },
    input: { cp: 'D', ventilation: false },
    actions: [drive({ mode: 'x1' })],
    next: { contactorClosed: false },
  },
  {
    name: '§4: state D with evse.ventilation charges like C',
    state: { ...IDLE, pilot: pwm(16) },
    input: { cp: 'D', ventilation: true },
    actions: [close('car in D')],
  },
  {
    name: '§4: decreases of the offered current reach the pilot at once',
    state: CHARGING,
    input: { cp: 'C', offeredA: 10 },
    actions: [drive(pwm(10))],
    next: { contactorClosed: true, pilotSinceMs: CHARGING.pilotSinceMs },
  },
  { name: 'the same duty is not driven again', state: CHARGING, input: { cp: 'C' }, actions: [] },

  // --- Table A.6: the car leaves C, the offer goes ---
  {
    name: 'A.6 seq. 2.2/8.1 (C -> B): the contactor opens at once, the PWM stays',
    state: CHARGING,
    input: { cp: 'B' },
    actions: [open('car in B')],
    next: { contactorClosed: false, lastOpenedAtMs: NOW, pilot: pwm(16) },
  },
  {
    name: 'A.6 seq. 2.2 (C -> A): unplugged under load: open and +12 V',
    state: CHARGING,
    input: { cp: 'A' },
    actions: [drive({ mode: 'x1' }), open('car in A')],
    next: { contactorClosed: false, lastOpenedAtMs: NOW },
  },
  {
    name: '§4: an offer below 6 A stops the PWM at once (C2 -> C1); the contactor waits for the car',
    state: CHARGING,
    input: { cp: 'C', offeredA: 5 },
    actions: [drive({ mode: 'x1' })],
    next: { contactorClosed: true, withdrawnAtMs: NOW },
  },
  {
    name: 'A.6 seq. 10.2: the car stays in C 5999 ms after the PWM stopped: still closed',
    state: { ...CHARGING, pilot: { mode: 'x1' }, withdrawnAtMs: NOW - (TIMING.openUnderLoadAfterMs - 1) },
    input: { cp: 'C', offeredA: 0 },
    actions: [],
    next: { contactorClosed: true },
  },
  {
    name: 'A.6 seq. 10.2 / §4: the car stays in C 6 s after the PWM stopped: open under load',
    state: { ...CHARGING, pilot: { mode: 'x1' }, withdrawnAtMs: NOW - TIMING.openUnderLoadAfterMs },
    input: { cp: 'C', offeredA: 0 },
    actions: [open('car stayed in C after the PWM stopped')],
    next: { contactorClosed: false, withdrawnAtMs: null, lastOpenedAtMs: NOW },
  },
  {
    name: 'the offer back before 6 s: PWM again, the 6 s count ends',
    state: { ...CHARGING, pilot: { mode: 'x1' }, withdrawnAtMs: NOW - 3000 },
    input: { cp: 'C' },
    actions: [drive(pwm(16))],
    next: { contactorClosed: true, withdrawnAtMs: null },
  },

  // --- Holds: withdraw, open, pilotE (CONTRACT §4 allowed; §4 CP disconnect and phase switch) ---
  {
    name: '§4 not allowed (hold withdraw): the PWM stops, the contactor follows the 6 s rule',
    state: CHARGING,
    input: { cp: 'C', hold: { kind: 'withdraw', reason: 'no transaction' } },
    actions: [drive({ mode: 'x1' })],
    next: { contactorClosed: true, withdrawnAtMs: NOW },
  },
  {
    name: 'hold open (fault, unlock, phase switch): open at once, no PWM',
    state: CHARGING,
    input: { cp: 'C', hold: { kind: 'open', reason: 'fault: rcd' } },
    actions: [drive({ mode: 'x1' }), open('fault: rcd')],
    next: { contactorClosed: false },
  },
  {
    name: '§4 CP disconnect (8086) / phase-switch pause (hold pilotE): state E and open at once',
    state: CHARGING,
    input: { cp: 'C', hold: { kind: 'pilotE', reason: 'CP disconnect' } },
    actions: [drive({ mode: 'E' }), open('CP disconnect')],
    next: { pilot: { mode: 'E' }, pilotSinceMs: NOW },
  },
  {
    name: 'any hold keeps an open contactor open',
    state: { ...IDLE, pilot: pwm(16) },
    input: { cp: 'C', hold: { kind: 'withdraw', reason: 'no transaction' } },
    actions: [drive({ mode: 'x1' })],
    next: { contactorClosed: false },
  },

  // --- Pilot faults (CONTRACT §6: diode missing, CP short; state F >= 300 ms, cleared by unplug) ---
  {
    name: '§6 CP short: E seen on a settled +12 V line is a fault, state F',
    state: IDLE,
    input: { cp: 'E' },
    actions: [drive({ mode: 'F' })],
    next: { pilot: { mode: 'F' }, pilotFault: { kind: 'cpShort', sinceMs: NOW } },
  },
  {
    name: '§6 CP short: F seen on a driven PWM line is a fault; the contactor opens at once',
    state: CHARGING,
    input: { cp: 'F' },
    actions: [drive({ mode: 'F' }), open('pilot fault: cpShort')],
    next: { pilotFault: { kind: 'cpShort', sinceMs: NOW }, contactorClosed: false },
  },
  {
    name: '§6 diode missing during PWM: fault, state F, open at once',
    state: CHARGING,
    input: { cp: 'C', diodeFault: true },
    actions: [drive({ mode: 'F' }), open('pilot fault: diode')],
    next: { pilotFault: { kind: 'diode', sinceMs: NOW } },
  },
  {
    name: 'a reading within 50 ms of a drive change belongs to the old drive: no fault',
    state: { ...IDLE, pilotSinceMs: NOW - (TIMING.pilotSettleMs - 1) },
    input: { cp: 'E' },
    actions: [],
    next: { pilotFault: null },
  },
  {
    name: 'while the pilot drives E on purpose, E is no fault',
    state: { ...IDLE, pilot: { mode: 'E' } },
    input: { cp: 'E', hold: { kind: 'pilotE', reason: 'CP disconnect' } },
    actions: [],
    next: { pilotFault: null },
  },
  {
    name: '§6: state F is held 299 ms after the fault',
    state: { ...IDLE, pilot: { mode: 'F' }, pilotFault: { kind: 'diode', sinceMs: NOW - (TIMING.pilotErrorHoldMs - 1) } },
    input: { cp: 'F' },
    actions: [],
  },
  {
    name: '§6: after 300 ms of F, +12 V so that an unplug can be seen; the fault stays',
    state: { ...IDLE, pilot: { mode: 'F' }, pilotFault: { kind: 'diode', sinceMs: NOW - TIMING.pilotErrorHoldMs } },
    input: { cp: 'F' },
    actions: [drive({ mode: 'x1' })],
    next: { pilotFault: { kind: 'diode', sinceMs: NOW - TIMING.pilotErrorHoldMs } },
  },
  {
    name: '§6: a pilot fault does not end while the car is plugged (B on +12 V), no PWM',
    state: { ...IDLE, pilotFault: { kind: 'diode', sinceMs: 0 } },
    input: { cp: 'B' },
    actions: [],
    next: { pilotFault: { kind: 'diode', sinceMs: 0 }, pilot: { mode: 'x1' } },
  },
  {
    name: '§6: a pilot fault ends when the car is unplugged (A on a settled +12 V line)',
    state: { ...IDLE, pilotFault: { kind: 'diode', sinceMs: 0 } },
    input: { cp: 'A' },
    actions: [],
    next: { pilotFault: null },
  },
  {
    name: '§6: A seen before the +12 V line settled does not end the fault',
    state: { ...IDLE, pilotSinceMs: NOW - 10, pilotFault: { kind: 'cpShort', sinceMs: 0 } },
    input: { cp: 'A' },
    actions: [],
    next: { pilotFault: { kind: 'cpShort', sinceMs: 0 } },
  },

  // --- Socket lock (CONTRACT §4/§6: no charge without the lock; never unlocked while energised) ---
  {
    name: 'socket: a plugged car (B) is locked',
    state: IDLE,
    input: { cp: 'B', lockRequired: true },
    actions: [drive(pwm(16)), { type: 'setLock', locked: true }],
    next: { locked: true },
  },
  {
    name: 'socket: no close before the lock feedback says the plug is held',
    state: { ...IDLE, pilot: pwm(16), locked: true },
    input: { cp: 'C', lockRequired: true, lockEngaged: false },
    actions: [],
    next: { contactorClosed: false },
  },
  {
    name: 'socket: locked and held: close',
    state: { ...IDLE, pilot: pwm(16), locked: true },
    input: { cp: 'C', lockRequired: true, lockEngaged: true },
    actions: [close('car in C')],
  },
  {
    name: 'socket: an unlock request opens first; the lock stays while the mirror still reports the supply live',
    state: { ...CHARGING, locked: true },
    input: {
      cp: 'C',
      lockRequired: true,
      lockEngaged: true,
      unlockRequested: true,
      mirrorClosed: true,
      hold: { kind: 'open', reason: 'unlock' },
    },
    actions: [drive({ mode: 'x1' }), open('unlock')],
    next: { contactorClosed: false, locked: true },
  },
  {
    name: 'socket: never unlocked while the mirror says the supply is live (welded)',
    state: { ...IDLE, locked: true },
    input: { cp: 'B', lockRequired: true, unlockRequested: true, mirrorClosed: true, hold: { kind: 'open', reason: 'unlock' } },
    actions: [],
    next: { locked: true },
  },
  {
    name: 'socket: an unlock request with the supply off releases the plug',
    state: { ...IDLE, locked: true },
    input: { cp: 'B', lockRequired: true, unlockRequested: true, hold: { kind: 'open', reason: 'unlock' } },
    actions: [{ type: 'setLock', locked: false }],
    next: { locked: false },
  },
  {
    name: 'socket: unplugged (A) releases the lock',
    state: { ...IDLE, locked: true },
    input: { cp: 'A', lockRequired: true },
    actions: [{ type: 'setLock', locked: false }],
  },
  {
    name: 'tethered cable (no lock required): never locks',
    state: IDLE,
    input: { cp: 'B', lockRequired: false },
    actions: [drive(pwm(16))],
    next: { locked: false },
  },
];

for (const row of ROWS) {
  t.test(row.name, async (t) => {
    const { state, actions } = stepSession(row.state, { ...INPUT, ...row.input });
    t.same(actions, row.actions, 'actions');
    if (row.next !== undefined) t.match(state, row.next, 'next state');
    // The state after the actions agrees with them (the runner applies them in order).
    const closed = actions.filter((a) => a.type === 'setContactor').at(-1);
    t.equal(state.contactorClosed, closed === undefined ? row.state.contactorClosed : closed.closed, 'contactor as commanded');
    const driven = actions.find((a) => a.type === 'drivePilot');
    t.same(state.pilot, driven === undefined ? row.state.pilot : driven.output, 'pilot as driven');
  });
}

t.test('no row closes the contactor without a PWM answered by C/D (A.6 seq. 4), whatever the input', async (t) => {
  const cps = [null, 'A', 'B', 'C', 'D', 'E', 'F'] as const;
  const pilots: PilotOutput[] = [{ mode: 'x1' }, pwm(16), { mode: 'F' }, { mode: 'E' }];
  let checked = 0;
  for (const cp of cps)
    for (const pilot of pilots)
      for (const offeredA of [0, 6, 16])
        for (const hold of [null, { kind: 'withdraw', reason: 'x' }, { kind: 'open', reason: 'x' }] as const) {
          const { actions } = stepSession({ ...IDLE, pilot }, { ...INPUT, cp, offeredA, hold, ventilation: true });
          const closes = actions.some((a) => a.type === 'setContactor' && a.closed);
          const may = pilot.mode === 'pwm' && (cp === 'C' || cp === 'D') && hold === null && offeredA >= 6;
          if (closes && !may) t.fail(`closed with cp=${cp} pilot=${pilot.mode} offered=${offeredA} hold=${hold?.kind}`);
          checked += 1;
        }
  t.equal(checked, 7 * 4 * 3 * 3);
});

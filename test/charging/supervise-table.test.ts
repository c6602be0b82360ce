import t from 'tap';
import type { MeterReading } from '../../hal/meter.js';
import type { Fault, FaultKind, LatchRule } from '../../firmware/safety/faults.js';
import {
  clearByInstaller,
  initialSupervision,
  supervise,
  SUPERVISION,
  type SupervisionInput,
  type SupervisionState,
} from '../../firmware/safety/supervisor.js';

/**
 * `supervise`, the safety supervision of CONTRACT §6, one row per rule: detection at and just
 * below each threshold of the §6 table, how each latch ends, and what blocks charging. A row is a
 * short run of steps from a start state; the last step's verdict is checked.
 */

const T0 = 50_000;
const MIN_OFF_MS = 60_000;

const reading = (atMs: number, currentA: number): MeterReading => ({
  energyWh: 0,
  powerW: currentA * 230 * 3,
  currentsA: [currentA, currentA, currentA],
  voltagesV: [230, 230, 230],
  atMs,
});

/** A quiet, healthy input at `nowMs`: car unplugged, contactor open, a fresh meter reading. */
const quiet = (nowMs: number): SupervisionInput => ({
  nowMs,
  cp: 'A',
  pilotFault: null,
  contactorCommanded: false,
  mirrorClosed: false,
  rcdTripped: false,
  rcdSelfTestResult: null,
  offeredA: 16,
  meter: reading(nowMs, 0),
  lockRequired: false,
  lockCommanded: false,
  lockFeedback: false,
  minOffMs: MIN_OFF_MS,
});

const fault = (kind: FaultKind, latch: LatchRule, sinceMs = T0): Fault => ({ kind, latch, sinceMs, cause: 'earlier' });

/** Charging at 16 A since T0: contactor commanded closed and confirmed. */
const charging = (nowMs: number): Partial<SupervisionInput> & { nowMs: number } => ({
  nowMs,
  cp: 'C',
  contactorCommanded: true,
  mirrorClosed: true,
  meter: reading(nowMs, 16),
});

interface Row {
  readonly name: string;
  readonly start?: SupervisionState;
  /** The steps, each a change to `quiet(nowMs)`; `nowMs` is required. */
  readonly steps: ReadonlyArray<Partial<SupervisionInput> & { nowMs: number }>;
  /** Faults in force after the last step, as kind:latch. */
  readonly faults: string[];
  /** Kinds raised / cleared in the last step. */
  readonly raised?: FaultKind[];
  readonly cleared?: FaultKind[];
  readonly blocking: boolean;
  readonly selfTest?: 'notNeeded' | 'required' | 'running';
  readonly runSelfTest?: boolean;
}

const ROWS: Row[] = [
  { name: 'healthy: no faults, not blocking', steps: [{ nowMs: T0 }], faults: [], blocking: false },

  // §6 diode missing, CP short: mirrored from the session; latched until the unplug.
  {
    name: '§6 diode missing: the session reports it, an unplug-latched fault that blocks',
    steps: [{ nowMs: T0, cp: 'C', pilotFault: 'diode' }],
    faults: ['diode:unplug'],
    raised: ['diode'],
    blocking: true,
  },
  {
    name: '§6 CP short: raised the same way',
    steps: [{ nowMs: T0, cp: 'B', pilotFault: 'cpShort' }],
    faults: ['cpShort:unplug'],
    raised: ['cpShort'],
    blocking: true,
  },
  {
    name: '§6 pilot fault: ends when the session clears it (car unplugged)',
    start: { ...initialSupervision(0), faults: [fault('diode', 'unplug')] },
    steps: [{ nowMs: T0 + 1, cp: 'A', pilotFault: null }],
    faults: [],
    cleared: ['diode'],
    blocking: false,
  },
  {
    name: '§6 pilot fault: stays while the session still reports it, even in A',
    start: { ...initialSupervision(0), faults: [fault('cpShort', 'unplug')] },
    steps: [{ nowMs: T0 + 1, cp: 'A', pilotFault: 'cpShort' }],
    faults: ['cpShort:unplug'],
    blocking: true,
  },

  // §6 welded contactor: mirror closed while commanded open; installer latch.
  {
    name: '§6 welded: mirror still closed 199 ms after the release is no weld yet',
    steps: [
      charging(T0),
      { nowMs: T0 + 100, cp: 'C', mirrorClosed: true },
      { nowMs: T0 + 100 + SUPERVISION.weldDetectMs - 1, mirrorClosed: true },
    ],
    faults: [],
    blocking: false,
  },
  {
    name: '§6 welded: mirror closed 200 ms after the release: installer-latched, blocking',
    steps: [
      charging(T0),
      { nowMs: T0 + 100, cp: 'C', mirrorClosed: true },
      { nowMs: T0 + 100 + SUPERVISION.weldDetectMs, mirrorClosed: true },
    ],
    faults: ['contactorWelded:installer'],
    raised: ['contactorWelded'],
    blocking: true,
  },
  {
    name: '§6 welded: an unplug does not end it',
    start: { ...initialSupervision(0), faults: [fault('contactorWelded', 'installer')] },
    steps: [{ nowMs: T0 }],
    faults: ['contactorWelded:installer'],
    blocking: true,
  },

  // §6 stuck open: mirror open 1 s after the close; retry once after minOffS, then latch.
  {
    name: '§6 stuck open: mirror open 999 ms after the close is not yet a fault',
    steps: [
      { nowMs: T0, cp: 'C', contactorCommanded: true },
      { nowMs: T0 + SUPERVISION.stuckOpenDetectMs - 1, cp: 'C', contactorCommanded: true },
    ],
    faults: [],
    blocking: false,
  },
  {
    name: '§6 stuck open: mirror open 1 s after the close: first time, retried after minOffS',
    steps: [
      { nowMs: T0, cp: 'C', contactorCommanded: true },
      { nowMs: T0 + SUPERVISION.stuckOpenDetectMs, cp: 'C', contactorCommanded: true },
    ],
    faults: ['contactorStuckOpen:retry'],
    raised: ['contactorStuckOpen'],
    blocking: true,
  },
  {
    name: '§6 stuck open: the retry fault ends minOffS after it was raised',
    start: { ...initialSupervision(0), faults: [fault('contactorStuckOpen', 'retry')], stuckOpenTrips: 1 },
    steps: [{ nowMs: T0 + MIN_OFF_MS, cp: 'C' }],
    faults: [],
    cleared: ['contactorStuckOpen'],
    blocking: false,
  },
  {
    name: '§6 stuck open: still there minOffS - 1 ms after',
    start: { ...initialSupervision(0), faults: [fault('contactorStuckOpen', 'retry')], stuckOpenTrips: 1 },
    steps: [{ nowMs: T0 + MIN_OFF_MS - 1, cp: 'C' }],
    faults: ['contactorStuckOpen:retry'],
    blocking: true,
  },
  {
    name: '§6 stuck open: the second time in a row latches (until restart or installer)',
    start: { ...initialSupervision(0), stuckOpenTrips: 1 },
    steps: [
      { nowMs: T0, cp: 'C', contactorCommanded: true },
      { nowMs: T0 + SUPERVISION.stuckOpenDetectMs, cp: 'C', contactorCommanded: true },
    ],
    faults: ['contactorStuckOpen:restart'],
    raised: ['contactorStuckOpen'],
    blocking: true,
  },
  {
    name: '§6 stuck open: a confirmed close in between resets the count (first time again)',
    start: { ...initialSupervision(0), stuckOpenTrips: 1 },
    steps: [
      { nowMs: T0, cp: 'C', contactorCommanded: true, mirrorClosed: true },
      { nowMs: T0 + 10_000, cp: 'C' },
      { nowMs: T0 + 20_000, cp: 'C', contactorCommanded: true },
      { nowMs: T0 + 20_000 + SUPERVISION.stuckOpenDetectMs, cp: 'C', contactorCommanded: true },
    ],
    faults: ['contactorStuckOpen:retry'],
    blocking: true,
  },

  // §6 RCD: open at once, latch until the unplug; one self-test before the next close.
  {
    name: '§6 RCD trip: raised at once, a self-test becomes due',
    steps: [{ ...charging(T0), rcdTripped: true }],
    faults: ['rcd:unplug'],
    raised: ['rcd'],
    blocking: true,
    selfTest: 'required',
  },
  {
    name: '§6 RCD: not ended by the unplug while the detector still trips',
    start: { ...initialSupervision(0), faults: [fault('rcd', 'unplug')], rcdSelfTest: 'required' },
    steps: [{ nowMs: T0, cp: 'A', rcdTripped: true }],
    faults: ['rcd:unplug'],
    blocking: true,
    selfTest: 'required',
  },
  {
    name: '§6 RCD: not ended while the car stays plugged',
    start: { ...initialSupervision(0), faults: [fault('rcd', 'unplug')], rcdSelfTest: 'required' },
    steps: [{ nowMs: T0, cp: 'B' }],
    faults: ['rcd:unplug'],
    blocking: true,
    selfTest: 'required',
  },
  {
    name: '§6 RCD: the unplug ends it and starts the self-test, which still blocks',
    start: { ...initialSupervision(0), faults: [fault('rcd', 'unplug')], rcdSelfTest: 'required' },
    steps: [{ nowMs: T0, cp: 'A' }],
    faults: [],
    cleared: ['rcd'],
    blocking: true,
    selfTest: 'running',
    runSelfTest: true,
  },
  {
    name: '§6 RCD: a passed self-test allows the next close',
    start: { ...initialSupervision(0), rcdSelfTest: 'running' },
    steps: [{ nowMs: T0, rcdSelfTestResult: true }],
    faults: [],
    blocking: false,
    selfTest: 'notNeeded',
  },
  {
    name: '§6 RCD: a failed self-test latches for the installer',
    start: { ...initialSupervision(0), rcdSelfTest: 'running' },
    steps: [{ nowMs: T0, rcdSelfTestResult: false }],
    faults: ['rcd:installer'],
    raised: ['rcd'],
    blocking: true,
  },

  // §6 over-current: > offered + 10 % + 0.5 A for 7 s; stop, retry after minOffS.
  {
    name: '§6 over-current: 18 A at 16 A offered (within offered × 1.1 + 0.5 A = 18.1 A) for 10 s is allowed',
    steps: [
      { ...charging(T0), meter: reading(T0, 18) },
      { ...charging(T0 + 10_000), meter: reading(T0 + 10_000, 18) },
    ],
    faults: [],
    blocking: false,
  },
  {
    name: '§6 over-current: above the margin for 6999 ms is not yet a fault',
    steps: [
      charging(T0),
      { ...charging(T0 + 1), meter: reading(T0 + 1, 18.2) },
      { ...charging(T0 + 7000), meter: reading(T0 + 7000, 18.2) },
    ],
    faults: [],
    blocking: false,
  },
  {
    name: '§6 over-current: above the margin for 7 s: stop, retried after minOffS',
    steps: [
      charging(T0),
      { ...charging(T0 + 1), meter: reading(T0 + 1, 18.2) },
      { ...charging(T0 + 7001), meter: reading(T0 + 7001, 18.2) },
    ],
    faults: ['overCurrent:retry'],
    raised: ['overCurrent'],
    blocking: true,
  },
  {
    name: '§6 over-current: a dip below the margin restarts the 7 s',
    steps: [
      { ...charging(T0), meter: reading(T0, 18.2) },
      { ...charging(T0 + 4000), meter: reading(T0 + 4000, 16) },
      { ...charging(T0 + 8000), meter: reading(T0 + 8000, 18.2) },
      { ...charging(T0 + 14_999), meter: reading(T0 + 14_999, 18.2) },
    ],
    faults: [],
    blocking: false,
  },
  {
    name: '§6 over-current: the retry fault ends minOffS after it was raised',
    start: { ...initialSupervision(0), faults: [fault('overCurrent', 'retry')] },
    steps: [{ nowMs: T0 + MIN_OFF_MS, cp: 'C' }],
    faults: [],
    cleared: ['overCurrent'],
    blocking: false,
  },

  // §6 meter lost: no reading for 10 s; reported, charging goes on; ends with the next reading.
  {
    name: '§6 meter lost: 9999 ms without a reading is not yet lost',
    steps: [{ ...charging(T0), meter: reading(T0 - SUPERVISION.meterLostMs + 1, 16) }],
    faults: [],
    blocking: false,
  },
  {
    name: '§6 meter lost: 10 s without a reading: reported, not blocking (keep charging)',
    steps: [{ ...charging(T0), meter: reading(T0 - SUPERVISION.meterLostMs, 16) }],
    faults: ['meterLost:recovers'],
    raised: ['meterLost'],
    blocking: false,
  },
  {
    name: '§6 meter lost: a meter that never answered counts from the start',
    start: initialSupervision(T0),
    steps: [{ nowMs: T0 + SUPERVISION.meterLostMs, meter: null }],
    faults: ['meterLost:recovers'],
    blocking: false,
  },
  {
    name: '§6 meter lost: ends as soon as readings come back',
    start: { ...initialSupervision(0), faults: [fault('meterLost', 'recovers')] },
    steps: [charging(T0)],
    faults: [],
    cleared: ['meterLost'],
    blocking: false,
  },
  {
    name: '§6 meter lost: a stale reading does not count as over-current (energy not invented)',
    steps: [
      { ...charging(T0), meter: reading(T0 - SUPERVISION.meterLostMs, 40) },
      { ...charging(T0 + 8000), meter: reading(T0 - SUPERVISION.meterLostMs, 40) },
    ],
    faults: ['meterLost:recovers'],
    blocking: false,
  },

  // §6 lock failure: the feedback must follow the command within 1 s.
  {
    name: '§6 lock: feedback not engaged 999 ms after the command is not yet a failure',
    steps: [
      { nowMs: T0, cp: 'B', lockRequired: true, lockCommanded: true },
      { nowMs: T0 + SUPERVISION.lockDetectMs - 1, cp: 'B', lockRequired: true, lockCommanded: true },
    ],
    faults: [],
    blocking: false,
  },
  {
    name: '§6 lock: not engaged 1 s after the command: lock failure, no charge',
    steps: [
      { nowMs: T0, cp: 'B', lockRequired: true, lockCommanded: true },
      { nowMs: T0 + SUPERVISION.lockDetectMs, cp: 'B', lockRequired: true, lockCommanded: true },
    ],
    faults: ['lockFailure:unplug'],
    raised: ['lockFailure'],
    blocking: true,
  },
  {
    name: '§6 lock: not released 1 s after the release command is a failure too',
    steps: [
      { nowMs: T0, cp: 'B', lockRequired: true, lockCommanded: true, lockFeedback: true },
      { nowMs: T0 + 10, cp: 'B', lockRequired: true, lockCommanded: false, lockFeedback: true },
      { nowMs: T0 + 10 + SUPERVISION.lockDetectMs, cp: 'B', lockRequired: true, lockCommanded: false, lockFeedback: true },
    ],
    faults: ['lockFailure:unplug'],
    blocking: true,
  },
  {
    name: '§6 lock: the unplug does not end it while the feedback still disagrees',
    start: { ...initialSupervision(0), lockCommanded: true, faults: [fault('lockFailure', 'unplug')] },
    steps: [{ nowMs: T0, cp: 'A', lockRequired: true, lockCommanded: true, lockFeedback: false }],
    faults: ['lockFailure:unplug'],
    blocking: true,
  },
  {
    name: '§6 lock: the unplug ends it once the feedback agrees',
    start: { ...initialSupervision(0), faults: [fault('lockFailure', 'unplug')] },
    steps: [{ nowMs: T0, cp: 'A', lockRequired: true }],
    faults: [],
    cleared: ['lockFailure'],
    blocking: false,
  },
  {
    name: 'a tethered cable (no lock required) has no lock supervision',
    steps: [
      { nowMs: T0, cp: 'B', lockCommanded: true },
      { nowMs: T0 + 5000, cp: 'B', lockCommanded: true },
    ],
    faults: [],
    blocking: false,
  },

  // §6: latches across restarts (installer faults persisted in dataDir).
  {
    name: '§6: a persisted installer latch is in force from the start and survives an unplug',
    start: initialSupervision(0, [fault('storage', 'installer', 0)]),
    steps: [{ nowMs: T0 }],
    faults: ['storage:installer'],
    blocking: true,
  },
];

for (const row of ROWS) {
  t.test(row.name, async (t) => {
    let state = row.start ?? initialSupervision(T0 - 1);
    let verdict = supervise(state, quiet(T0));
    // The rows' steps in order; the last verdict is checked.
    for (const step of row.steps) {
      verdict = supervise(state, { ...quiet(step.nowMs), ...step });
      state = verdict.state;
    }
    t.same(
      verdict.state.faults.map((f) => `${f.kind}:${f.latch}`),
      row.faults,
      'faults in force',
    );
    const kinds = (type: 'raised' | 'cleared'): FaultKind[] => verdict.actions.flatMap((a) => (a.type === type ? [a.fault.kind] : []));
    if (row.raised !== undefined) t.same(kinds('raised'), row.raised, 'raised in the last step');
    if (row.cleared !== undefined) t.same(kinds('cleared'), row.cleared, 'cleared in the last step');
    t.equal(verdict.blocking, row.blocking, 'blocking');
    if (row.selfTest !== undefined) t.equal(verdict.state.rcdSelfTest, row.selfTest, 'RCD self-test');
    t.equal(
      verdict.actions.some((a) => a.type === 'runRcdSelfTest'),
      row.runSelfTest ?? false,
      'self-test started',
    );
  });
}

t.test('§6 clear by an installer: installer and restart latches go, the others stay', async (t) => {
  const state = {
    ...initialSupervision(0),
    faults: [
      fault('contactorWelded', 'installer'),
      fault('contactorStuckOpen', 'restart'),
      fault('diode', 'unplug'),
      fault('meterLost', 'recovers'),
    ],
    stuckOpenTrips: 2,
  };
  const cleared = clearByInstaller(state);
  t.same(
    cleared.faults.map((f) => f.kind),
    ['diode', 'meterLost'],
  );
  t.equal(cleared.stuckOpenTrips, 0);
});

t.test('§6: a fault already in force is not raised twice', async (t) => {
  let state = initialSupervision(T0);
  const raised: FaultKind[] = [];
  for (let ms = 0; ms <= 3000; ms += 100) {
    const verdict = supervise(state, { ...quiet(T0 + ms), cp: 'C', pilotFault: 'diode' });
    raised.push(...verdict.actions.flatMap((a) => (a.type === 'raised' ? [a.fault.kind] : [])));
    state = verdict.state;
  }
  t.same(raised, ['diode']);
});

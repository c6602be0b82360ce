import t from 'tap';
import {
  INITIAL_TX_STATE,
  isFinishing,
  mayStart,
  runningTransaction,
  stepTransaction,
  waitingAt,
  type TxEffect,
  type TxEvent,
  type TxState,
} from '../../firmware/ocpp/transaction-state.js';
import type { Transaction } from '../../firmware/ocpp/transaction-types.js';

/**
 * `stepTransaction`, the connector's transaction state (CONTRACT §5, OCPP 1.6 §3.6/§4.10), one row
 * per transition: a state, an event, the effects and the next state.
 */

const TX: Transaction = {
  localId: 7,
  transactionId: null,
  idTag: 'TAG',
  meterStartWh: 100,
  startedAt: '2026-03-02T10:00:00.000Z',
  authorized: true,
  parentIdTag: null,
  chargingProfile: null,
};
const WAIT = { idTag: 'CARD', untilMs: 60_000, reservationId: null, chargingProfile: null };

const IDLE: TxState = INITIAL_TX_STATE;
const READY: TxState = { ...IDLE, ready: true };
const PLUGGED: TxState = { ...READY, plugged: true };
const RUNNING: TxState = { ...PLUGGED, phase: { kind: 'running', tx: TX } };
const ENDED: TxState = { ...PLUGGED, phase: { kind: 'ended' } };
const WAITING: TxState = { ...READY, phase: { kind: 'waiting', ...WAIT } };
const STARTING: TxState = { ...PLUGGED, phase: { kind: 'starting', idTag: 'TAG', afterEnded: false } };

interface Row {
  readonly name: string;
  readonly state: TxState;
  readonly event: TxEvent;
  readonly effects: TxEffect[];
  readonly next: TxState;
}

const ROWS: Row[] = [
  // --- readiness and the car ---
  { name: 'ready before a car: nothing to start yet', state: IDLE, event: { type: 'ready' }, effects: [], next: READY },
  {
    name: 'ready with a car already plugged in: the plug-in counts once',
    state: { ...IDLE, plugged: true },
    event: { type: 'ready' },
    effects: [{ type: 'pluggedIn' }],
    next: PLUGGED,
  },
  { name: 'ready twice: no second plug-in', state: PLUGGED, event: { type: 'ready' }, effects: [], next: PLUGGED },
  {
    name: 'plug-in while ready: the start flow runs',
    state: READY,
    event: { type: 'plugged' },
    effects: [{ type: 'pluggedIn' }],
    next: PLUGGED,
  },
  {
    name: 'plug-in before Boot is Accepted: remembered, nothing starts',
    state: IDLE,
    event: { type: 'plugged' },
    effects: [],
    next: { ...IDLE, plugged: true },
  },
  { name: 'B then C: still the same plug-in', state: PLUGGED, event: { type: 'plugged' }, effects: [], next: PLUGGED },
  {
    name: 'unplug during a transaction: it ends with EVDisconnected (OCPP 1.6 §4.10), then the status',
    state: RUNNING,
    event: { type: 'unplugged' },
    effects: [{ type: 'stop', reason: 'EVDisconnected' }, { type: 'changed' }],
    next: { ...RUNNING, plugged: false },
  },
  { name: 'unplug while Finishing: back to idle', state: ENDED, event: { type: 'unplugged' }, effects: [{ type: 'changed' }], next: READY },
  {
    name: 'unplug during a start that began while Finishing: Finishing is over',
    state: { ...PLUGGED, phase: { kind: 'starting', idTag: 'TAG', afterEnded: true } },
    event: { type: 'unplugged' },
    effects: [{ type: 'changed' }],
    next: { ...READY, phase: { kind: 'starting', idTag: 'TAG', afterEnded: false } },
  },
  { name: 'A without a car before: nothing', state: READY, event: { type: 'unplugged' }, effects: [], next: READY },
  // --- authorisation before and after the car (CONTRACT §5, ConnectionTimeOut) ---
  {
    name: 'authorised with the car there: start at once, with its reservation and profile',
    state: PLUGGED,
    event: { type: 'authorized', ...WAIT, reservationId: 3 },
    effects: [{ type: 'start', idTag: 'CARD', reservationId: 3, chargingProfile: null }],
    next: PLUGGED,
  },
  {
    name: 'authorised before the car: the idTag waits for it',
    state: READY,
    event: { type: 'authorized', ...WAIT },
    effects: [],
    next: WAITING,
  },
  {
    name: 'a later authorisation replaces the waiting one',
    state: WAITING,
    event: { type: 'authorized', ...WAIT, idTag: 'OTHER' },
    effects: [],
    next: { ...READY, phase: { kind: 'waiting', ...WAIT, idTag: 'OTHER' } },
  },
  {
    name: 'authorised while a transaction is still ending, unplugged: it does not wait',
    state: { ...RUNNING, plugged: false },
    event: { type: 'authorized', ...WAIT },
    effects: [],
    next: { ...RUNNING, plugged: false },
  },
  {
    name: 'the car came for the waiting idTag: its authorisation is used',
    state: WAITING,
    event: { type: 'waitTaken' },
    effects: [],
    next: READY,
  },
  // --- start ---
  { name: 'a start begins', state: PLUGGED, event: { type: 'startBegun', idTag: 'TAG' }, effects: [], next: STARTING },
  {
    name: 'a start that begins while Finishing stays Finishing until it runs',
    state: ENDED,
    event: { type: 'startBegun', idTag: 'TAG' },
    effects: [],
    next: { ...PLUGGED, phase: { kind: 'starting', idTag: 'TAG', afterEnded: true } },
  },
  { name: 'no second start while one starts', state: STARTING, event: { type: 'startBegun', idTag: 'X' }, effects: [], next: STARTING },
  { name: 'no start while a transaction runs', state: RUNNING, event: { type: 'startBegun', idTag: 'X' }, effects: [], next: RUNNING },
  {
    name: 'a start aborted (signing meter failed): idle again',
    state: STARTING,
    event: { type: 'startAborted' },
    effects: [],
    next: PLUGGED,
  },
  {
    name: 'a start aborted that began while Finishing: Finishing again',
    state: { ...PLUGGED, phase: { kind: 'starting', idTag: 'TAG', afterEnded: true } },
    event: { type: 'startAborted' },
    effects: [],
    next: ENDED,
  },
  { name: 'the start done: the transaction runs', state: STARTING, event: { type: 'started', tx: TX }, effects: [], next: RUNNING },
  // --- stop ---
  { name: 'stopped with the car plugged in: Finishing', state: RUNNING, event: { type: 'stopped' }, effects: [], next: ENDED },
  {
    name: 'stopped after the car left: idle',
    state: { ...RUNNING, plugged: false },
    event: { type: 'stopped' },
    effects: [],
    next: READY,
  },
  { name: 'stopped without a transaction: nothing', state: PLUGGED, event: { type: 'stopped' }, effects: [], next: PLUGGED },
  // --- a Reset: the OCPP side boots anew ---
  {
    name: 'rebooted while Finishing: as at boot, the car counts again at the next ready',
    state: ENDED,
    event: { type: 'rebooted' },
    effects: [{ type: 'changed' }],
    next: { ...IDLE, plugged: true },
  },
  {
    name: 'rebooted without a car: not ready until the next Boot',
    state: READY,
    event: { type: 'rebooted' },
    effects: [{ type: 'changed' }],
    next: IDLE,
  },
  {
    name: 'rebooted while an idTag waits for the car: the authorisation does not survive',
    state: WAITING,
    event: { type: 'rebooted' },
    effects: [{ type: 'changed' }],
    next: IDLE,
  },
  {
    name: 'rebooted while a transaction runs (begun after the reset stopped the last): it keeps running',
    state: RUNNING,
    event: { type: 'rebooted' },
    effects: [],
    next: { ...RUNNING, ready: false },
  },
  {
    name: 'rebooted while a start is under way: it goes on',
    state: STARTING,
    event: { type: 'rebooted' },
    effects: [],
    next: { ...STARTING, ready: false },
  },
];

for (const row of ROWS) {
  t.test(row.name, async (t) => {
    const { state, effects } = stepTransaction(row.state, row.event);
    t.same(effects, row.effects, 'effects');
    t.same(state, row.next, 'next state');
  });
}

t.test('the views of the state', async (t) => {
  t.equal(runningTransaction(RUNNING), TX, 'the running transaction');
  t.equal(runningTransaction(ENDED), null, 'none after it ended');
  t.ok(isFinishing(ENDED), 'ended with the car plugged in: Finishing');
  t.ok(isFinishing({ ...PLUGGED, phase: { kind: 'starting', idTag: 'TAG', afterEnded: true } }), 'still Finishing while the next starts');
  t.notOk(isFinishing(STARTING), 'a first start is not Finishing');
  t.notOk(mayStart(RUNNING), 'no start while one runs');
  t.notOk(mayStart(STARTING), 'nor while one starts');
  t.ok(mayStart(WAITING) && mayStart(ENDED) && mayStart(READY), 'else a start may begin');
  t.same(waitingAt(WAITING, 60_000), WAITING.phase, 'the waiting idTag until ConnectionTimeOut');
  t.equal(waitingAt(WAITING, 60_001), null, 'lapsed after it');
  t.equal(waitingAt(READY, 0), null, 'none waiting');
});

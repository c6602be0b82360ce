import t from 'tap';
import {
  idlePlan,
  phaseSelection,
  planCpDisconnect,
  planPhases,
  stepInterruption,
  stepPlan,
} from '../../firmware/charging/interruption.js';

const input = (nowMs: number, over: Partial<Parameters<typeof stepPlan>[1]> = {}) => ({
  nowMs,
  contactorOpen: false,
  drawingA: 16,
  phaseSwitchPauseMs: 10_000,
  relayPhases: 3 as const,
  minIntervalMs: 300_000,
  ...over,
});

t.test('a CP disconnect is planned only when nothing else runs', async (t) => {
  const plan = planCpDisconnect(idlePlan, 5, 1000);
  t.match(plan?.current, { kind: 'cpDisconnect', stage: 'stopping', seconds: 5, sinceMs: 1000 });
  t.equal(planCpDisconnect(plan!, 60, 2000), null, 'a second one is ignored');
});

t.test('a phase request reads back at once; one equal to the relay is dropped', async (t) => {
  const asked = planPhases(idlePlan, 1);
  t.equal(phaseSelection(asked, 3), 1);
  t.equal(phaseSelection(idlePlan, 3), 3);
  const same = stepPlan(planPhases(idlePlan, 3), input(0));
  t.same([same.plan.pendingPhases, same.plan.current, same.started], [null, null, null]);
});

t.test('a phase switch waits for minIntervalS after the last one, then withdraws, opens when idle, switches, pauses', async (t) => {
  let step = stepPlan({ ...planPhases(idlePlan, 1), lastSwitchMs: 0 }, input(100_000));
  t.equal(step.started, null, 'too soon after the last switch');
  t.equal(step.plan.pendingPhases, 1);
  step = stepPlan(step.plan, input(300_000));
  t.match(step.started, { kind: 'phaseSwitch', phases: 1 });
  t.match(step.hold, { kind: 'withdraw' }, 'the car still draws: PWM off, wait');
  step = stepPlan(step.plan, input(300_005, { drawingA: 0 }));
  t.match(step.hold, { kind: 'open' }, 'not drawing: open now');
  t.equal(step.switchPhasesTo, null, 'not yet: the contactor is still closed');
  step = stepPlan(step.plan, input(300_010, { drawingA: 0, contactorOpen: true }));
  t.equal(step.switchPhasesTo, 1, 'switch with the contactor open');
  t.equal(step.plan.lastSwitchMs, 300_010);
  t.match(step.hold, { kind: 'pilotE' });
  step = stepPlan(step.plan, input(310_009, { contactorOpen: true, relayPhases: 1 }));
  t.match(step.hold, { kind: 'pilotE' }, 'pause not over');
  step = stepPlan(step.plan, input(310_010, { contactorOpen: true, relayPhases: 1 }));
  t.same([step.hold, step.plan.current], [null, null]);
  t.match(step.ended, { kind: 'phaseSwitch' });
});

t.test('a CP disconnect waits for the contactor to open, then holds state E for its seconds', async (t) => {
  let current = planCpDisconnect(idlePlan, 5, 0)!.current;
  let step = stepInterruption(current, input(10));
  t.match(step.hold, { kind: 'withdraw' });
  step = stepInterruption(step.interruption, input(1000, { contactorOpen: true }));
  t.match(step.interruption, { stage: 'disconnected', sinceMs: 1000 });
  current = step.interruption;
  t.match(stepInterruption(current, input(5999, { contactorOpen: true })).hold, { kind: 'pilotE' });
  t.same(stepInterruption(current, input(6000, { contactorOpen: true })), { interruption: null, hold: null, switchPhasesTo: null });
});

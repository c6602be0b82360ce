import t from 'tap';
import { evseStateCode } from '../../firmware/modbus/state-register.js';
import { FAULT_KINDS, type Fault } from '../../firmware/safety/faults.js';

const fault = (kind: Fault['kind']): Fault => ({ kind, sinceMs: 0, cause: 'test', latch: 'unplug' });

t.test('8092 is the car state 0..5 without faults', async (t) => {
  t.same(
    (['A', 'B', 'C', 'D', 'E', 'F'] as const).map((cp) => evseStateCode({ cp, faults: [] })),
    [0, 1, 2, 3, 4, 5],
  );
  t.equal(evseStateCode({ cp: null, faults: [] }), 0, 'before the first reading: A');
});

t.test('8092 reads 5 for every fault that stops charging, and not for a lost meter', async (t) => {
  for (const kind of FAULT_KINDS) {
    t.equal(evseStateCode({ cp: 'C', faults: [fault(kind)] }), kind === 'meterLost' ? 2 : 5, kind);
  }
});

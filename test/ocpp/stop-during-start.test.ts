import t from 'tap';
import { simSnapshot } from '../../board/sim-control-api.js';
import { TxQueue } from '../../firmware/ocpp/model/tx-queue.js';
import { ocppRigFor } from '../helpers/ocpp-rig.js';
import { gate } from '../helpers/gate.js';

/**
 * A stop that arrives while the start's journal write is still under way, with a signing meter
 * whose end record takes its time (CONTRACT §5, §9): the transaction never gets the permission
 * to charge in between. In process on the simulated board and clock; the journal write and the
 * meter's end are held by the test.
 */

const FIXED = 'OWNER01';

t.test('a card stops the transaction while its start is written: no charging before the stop completes', async (t) => {
  const rig = await ocppRigFor(t, { ocpp: { fixedIdTag: FIXED }, config: { sim: { signedMeter: true } } });

  const flush = TxQueue.prototype.flush;
  const flushGate = gate();
  let flushHeld = false;
  t.teardown(() => void (TxQueue.prototype.flush = flush));
  TxQueue.prototype.flush = async function (this: TxQueue) {
    if (!flushHeld) {
      flushHeld = true;
      await flushGate.opened;
    }
    return flush.call(this);
  };
  const meter = rig.hal.meter.signing!;
  const end = meter.endTransaction.bind(meter);
  const endGate = gate();
  meter.endTransaction = async () => {
    await endGate.opened;
    return end();
  };

  rig.car('C');
  await rig.pace(() => flushHeld && rig.cp.transactions.transaction !== null);
  rig.card(FIXED);
  await rig.advance(100);
  flushGate.open();
  await rig.advance(3_000);
  t.equal(simSnapshot(rig.plant)['relayClosed'], false, 'the contactor stayed open while the stop waited for the end record');
  t.equal(rig.firmware.charging.status().offer.pausedBy, 'ocppNotAllowed', 'no permission to charge');

  endGate.open();
  const stop = await rig.waitCall('StopTransaction');
  t.match(stop.params, { reason: 'Local', idTag: FIXED });
  t.equal(simSnapshot(rig.plant)['relayClosed'], false);
});

import t from 'tap';
import { systemClock } from '../../hal/clock.js';
import { openMeterBus, Sdm630Meter } from '../../hal/linux/sdm630-meter.js';
import { meterEmulator as emulator, meterRegisters as registers } from '../helpers/meter-emulator.js';
import { startPtyPair } from '../helpers/socat.js';

/**
 * The SDM630-class meter driver over a virtual serial cable (socat) against a meter emulator on
 * the far end: modbus-serial's own RTU server, holding the meter's input registers as floats.
 */

t.test(
  'reads voltages, currents, power and energy; a meter that stops answering keeps its last reading and is reported once',
  async (t) => {
    const pair = await startPtyPair();
    t.teardown(() => pair.close());
    const words = registers({ 0x00: 230.5, 0x02: 229.5, 0x04: 231, 0x06: 16.25, 0x08: 15.75, 0x0a: 16, 0x34: 11040, 0x48: 1234.5 });
    let meterSide = await emulator(pair.masterPath, words);
    const logs: string[] = [];
    const log = { warn: (msg: string) => void logs.push(`warn ${msg}`), info: (msg: string) => void logs.push(`info ${msg}`) };
    const bus = await openMeterBus({ path: pair.slavePath, baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 }, 7, 300);
    const meter = new Sdm630Meter({ bus, clock: systemClock, log, pollMs: 3_600_000 });
    t.teardown(() => meter.close());
    t.equal(meter.latest(), null, 'nothing before the first answer');
    await meter.poll();
    const first = meter.latest();
    t.match(first, { energyWh: 1234500, powerW: 11040, voltagesV: [230.5, 229.5, 231], currentsA: [16.25, 15.75, 16] });
    await meterSide.close();
    await meter.poll();
    await meter.poll();
    t.same(meter.latest(), first, 'the last reading stays, with its time (the supervision sees it age)');
    t.same(logs, ['warn meter does not answer'], 'reported once');
    words.set(0x49, 0x4000);
    meterSide = await emulator(pair.masterPath, words);
    await meter.poll();
    t.not(meter.latest()?.energyWh, first?.energyWh, 'a new reading (the energy register moved)');
    t.same(logs, ['warn meter does not answer', 'info meter answers again']);
    await meterSide.close();
  },
);

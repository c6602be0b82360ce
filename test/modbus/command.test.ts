import t from 'tap';
import { Exception } from '../../firmware/modbus/codec.js';
import { ModbusModel } from '../../firmware/modbus/model.js';
import { silentLogger } from '../../firmware/log.js';
import type { EvseSettings } from '../../firmware/charging/controller.js';
import { simRig } from '../helpers/sim-rig.js';

/**
 * ModbusModel.command: the energy-manager input of another interface (MQTT, CONTRACT §8) is the
 * register write itself: same range check and rules, read back from the registers, and a reset
 * of the watchdog when accepted (not when refused).
 */

function fixture(evse: Partial<EvseSettings> = {}, timeoutS = 0) {
  const rig = simRig({ evse });
  const model = new ModbusModel({
    charging: rig.controller,
    clock: rig.clock,
    log: silentLogger,
    identity: { vendorId: 1, productId: 1, firmwareVersion: '1.0.0', serialNumber: 'SN1', productName: 'Box' },
    persistence: { saveUnitId: async () => {}, saveBootLimit: async () => {} },
    unitId: 1,
    installationLimitA: 32,
    bootLimitA: 32,
    meterAttached: true,
    timeoutS,
    failsafeCurrentA: 6,
  });
  return { rig, model };
}

t.test('accepted commands are what the registers read back and what the charging core gets', async (t) => {
  const { rig, model } = fixture();
  t.equal(await model.command('currentLimit', 100), null);
  t.equal(model.values().currentLimit, 100);
  t.equal(rig.controller.status().offer.limitA, 10);
  t.equal(await model.command('chargingEnable', 0), null);
  t.equal(model.values().chargingEnable, 0);
  t.equal(rig.controller.status().offer.pausedBy, 'modbusDisabled');
});

t.test('refused as Modbus refuses them, nothing changed', async (t) => {
  const { model } = fixture();
  t.equal(await model.command('currentLimit', 801), Exception.IllegalDataValue);
  t.equal(await model.command('chargingEnable', 2), Exception.IllegalDataValue);
  t.equal(await model.command('phaseSelection', 1), Exception.IllegalDataValue, 'no phase switching');
  t.match(model.values(), { currentLimit: 320, chargingEnable: 1, phaseSelection: 0 });
  const switching = fixture({ phaseSwitching: { enabled: true, minIntervalS: 0, pauseS: 1 } });
  t.equal(await switching.model.command('phaseSelection', 1), null, 'with phase switching');
});

t.test('an accepted command resets the watchdog; a refused one does not', async (t) => {
  const { rig, model } = fixture({}, 2);
  rig.clock.advance(1500);
  t.equal(await model.command('currentLimit', 160), null);
  rig.clock.advance(1500);
  t.equal(model.energyManager().watchdog.fired, false, '3 s after boot, 1.5 s after the command');
  t.equal(await model.command('currentLimit', 5000), Exception.IllegalDataValue);
  rig.clock.advance(600);
  t.equal(model.energyManager().watchdog.fired, true, 'the refused command did not reset it');
  t.equal(rig.controller.status().offer.limitA, 6, 'failsafe');
  t.equal(await model.command('chargingEnable', 1), null);
  t.equal(model.energyManager().watchdog.fired, false, 'a command ends it');
  t.equal(rig.controller.status().offer.limitA, 16);
});

import t from 'tap';
import { discoveryMessages } from '../../firmware/mqtt/discovery.js';
import { topicsFor } from '../../firmware/mqtt/topics.js';
import { discoveryProblems } from '../helpers/home-assistant.js';

/** CONTRACT §8 Home Assistant discovery, checked against the documented keys of each component. */

const topics = topicsFor('wallbox/SN-1');
const device = {
  serialNumber: 'SN-1',
  name: 'Smart Wallbox Controller',
  manufacturer: 'SmartWallbox',
  model: 'SW-Controller-1',
  firmwareVersion: '1.2.3',
};

const parse = (topic: string): { component: string; nodeId: string; objectId: string } => {
  const match = /^homeassistant\/([a-z_]+)\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)\/config$/.exec(topic);
  if (!match) throw new Error(`not a discovery topic: ${topic}`);
  return { component: match[1] as string, nodeId: match[2] as string, objectId: match[3] as string };
};

t.test('the entities of §8, one device, every one with P/availability and documented keys only', async (t) => {
  const messages = discoveryMessages(topics, device, { phaseSwitchingEnabled: true, maxCurrentA: 32 }, true);
  const byObject = new Map(messages.map((m) => [parse(m.topic).objectId, { ...parse(m.topic), config: m.config as Record<string, any> }]));
  t.same(
    [...byObject.keys()].sort(),
    [
      'charging_enabled',
      'current_l1',
      'current_l2',
      'current_l3',
      'current_limit',
      'energy',
      'offered_current',
      'phases',
      'power',
      'status',
    ].sort(),
  );
  for (const [objectId, { component, nodeId, config }] of byObject) {
    t.same(discoveryProblems(component, config), [], `${component}/${objectId}`);
    t.equal(nodeId, 'SN-1');
    t.equal(config.availability_topic, 'wallbox/SN-1/availability');
    t.same(config.device, {
      identifiers: ['wallbox_SN-1'],
      name: 'Smart Wallbox Controller',
      manufacturer: 'SmartWallbox',
      model: 'SW-Controller-1',
      serial_number: 'SN-1',
      sw_version: '1.2.3',
    });
    t.equal(config.unique_id, `SN-1_${objectId}`);
  }
  t.match(byObject.get('power'), {
    component: 'sensor',
    config: { device_class: 'power', unit_of_measurement: 'W', state_topic: topics.status },
  });
  t.match(byObject.get('energy'), {
    component: 'sensor',
    config: { device_class: 'energy', state_class: 'total_increasing', unit_of_measurement: 'Wh' },
  });
  t.match(byObject.get('current_l2'), {
    component: 'sensor',
    config: { device_class: 'current', unit_of_measurement: 'A', value_template: /currentsA\[1\]/ },
  });
  t.match(byObject.get('status'), {
    component: 'sensor',
    config: {
      device_class: 'enum',
      options: ['Available', 'Preparing', 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'Finishing', 'Reserved', 'Unavailable', 'Faulted'],
    },
  });
  t.match(byObject.get('current_limit'), { component: 'number', config: { command_topic: topics.set.limit, min: 6, max: 32 } });
  t.match(byObject.get('charging_enabled'), {
    component: 'switch',
    config: { command_topic: topics.set.enable, payload_on: '1', payload_off: '0' },
  });
  t.match(byObject.get('phases'), { component: 'select', config: { command_topic: topics.set.phases, options: ['1', '3'] } });
});

t.test('without phase switching the select is removed; switched off, every config is an empty (removal) message', async (t) => {
  const noSwitching = discoveryMessages(topics, device, { phaseSwitchingEnabled: false, maxCurrentA: 16 }, true);
  t.same(
    noSwitching.filter((m) => m.config === null).map((m) => m.topic),
    ['homeassistant/select/SN-1/phases/config'],
  );
  const off = discoveryMessages(topics, device, { phaseSwitchingEnabled: true, maxCurrentA: 16 }, false);
  t.equal(off.length, 10);
  t.ok(off.every((m) => m.config === null));
});

t.test('the checker itself refuses what Home Assistant would refuse', async (t) => {
  t.match(discoveryProblems('sensor', { state_topic: 'x', unit: 'W' }), ['sensor: undocumented key unit']);
  t.match(discoveryProblems('select', { command_topic: 'x' }), ['select: required key options missing', 'select: options must be strings']);
  t.match(discoveryProblems('sensor', { state_topic: 'x', device: { serial: '1' } }), ['device: undocumented key serial']);
});

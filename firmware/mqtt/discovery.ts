import type { ConnectorStatus } from '../ocpp/model/connector-status.js';
import { topicSafe, type Topics } from './topics.js';

/** The device Home Assistant shows: one per box. */
export interface DiscoveryDevice {
  readonly serialNumber: string;
  readonly name: string;
  readonly manufacturer: string;
  readonly model: string;
  readonly firmwareVersion: string;
}

export interface DiscoveryOptions {
  readonly phaseSwitchingEnabled: boolean;
  /** `evse.maxCurrentA`: the top of the limit number. */
  readonly maxCurrentA: number;
}

/** One retained discovery message: its topic and its config (null: removed, an empty payload). */
export interface DiscoveryMessage {
  readonly topic: string;
  readonly config: Readonly<Record<string, unknown>> | null;
}

/** The discovery prefix Home Assistant listens on by default. */
export const DISCOVERY_PREFIX = 'homeassistant';

const CONNECTOR_STATUSES: readonly ConnectorStatus[] = [
  'Available',
  'Preparing',
  'Charging',
  'SuspendedEV',
  'SuspendedEVSE',
  'Finishing',
  'Reserved',
  'Unavailable',
  'Faulted',
];

type Entity = {
  readonly component: 'sensor' | 'number' | 'switch' | 'select';
  readonly objectId: string;
  readonly config: Record<string, unknown>;
};

function entities(topics: Topics, options: DiscoveryOptions): Entity[] {
  const state = { state_topic: topics.status };
  const measured = (objectId: string, name: string, template: string, deviceClass: string, unit: string): Entity => ({
    component: 'sensor',
    objectId,
    config: { name, ...state, value_template: template, device_class: deviceClass, unit_of_measurement: unit, state_class: 'measurement' },
  });
  const currents = [1, 2, 3].map((n) =>
    measured(`current_l${n}`, `Current L${n}`, `{{ value_json.currentsA[${n - 1}] if value_json.currentsA else None }}`, 'current', 'A'),
  );
  return [
    measured('power', 'Power', '{{ value_json.powerW }}', 'power', 'W'),
    {
      component: 'sensor',
      objectId: 'energy',
      config: {
        name: 'Energy',
        ...state,
        value_template: '{{ value_json.energyWh }}',
        device_class: 'energy',
        unit_of_measurement: 'Wh',
        state_class: 'total_increasing',
      },
    },
    ...currents,
    {
      component: 'sensor',
      objectId: 'status',
      config: { name: 'Status', ...state, value_template: '{{ value_json.status }}', device_class: 'enum', options: CONNECTOR_STATUSES },
    },
    measured('offered_current', 'Offered current', '{{ value_json.offeredCurrentA }}', 'current', 'A'),
    {
      component: 'number',
      objectId: 'current_limit',
      // 1..5 A would be refused (CONTRACT §8: 0 or 6..80); pausing is the switch's job.
      config: {
        name: 'Current limit',
        command_topic: topics.set.limit,
        ...state,
        value_template: '{{ value_json.energyManager.limitA }}',
        min: 6,
        max: options.maxCurrentA,
        step: 1,
        mode: 'box',
        unit_of_measurement: 'A',
        device_class: 'current',
      },
    },
    {
      component: 'switch',
      objectId: 'charging_enabled',
      config: {
        name: 'Charging enabled',
        command_topic: topics.set.enable,
        payload_on: '1',
        payload_off: '0',
        ...state,
        value_template: "{{ '1' if value_json.energyManager.enabled else '0' }}",
        state_on: '1',
        state_off: '0',
      },
    },
    {
      component: 'select',
      objectId: 'phases',
      config: {
        name: 'Phases',
        command_topic: topics.set.phases,
        options: ['1', '3'],
        ...state,
        value_template: '{{ value_json.phases }}',
      },
    },
  ];
}

/**
 * CONTRACT §8: the retained Home Assistant discovery messages
 * (`homeassistant/<component>/<node_id>/<object_id>/config`), one device, every entity with
 * `P/availability`. With `enabled` false (or phase switching off, for the select) a message is
 * a removal: Home Assistant deletes an entity whose config is an empty retained payload.
 */
export function discoveryMessages(
  topics: Topics,
  device: DiscoveryDevice,
  options: DiscoveryOptions,
  enabled: boolean,
): DiscoveryMessage[] {
  const nodeId = topicSafe(device.serialNumber);
  const deviceInfo = {
    identifiers: [`wallbox_${nodeId}`],
    name: device.name,
    manufacturer: device.manufacturer,
    model: device.model,
    serial_number: device.serialNumber,
    sw_version: device.firmwareVersion,
  };
  return entities(topics, options).map(({ component, objectId, config }) => {
    const topic = `${DISCOVERY_PREFIX}/${component}/${nodeId}/${objectId}/config`;
    const wanted = enabled && (component !== 'select' || options.phaseSwitchingEnabled);
    return {
      topic,
      config: wanted
        ? { ...config, unique_id: `${nodeId}_${objectId}`, availability_topic: topics.availability, device: deviceInfo }
        : null,
    };
  });
}

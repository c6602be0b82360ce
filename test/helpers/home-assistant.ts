/**
 * Home Assistant's documented MQTT discovery keys per component (home-assistant.io/integrations/
 * <component>.mqtt, "Configuration Variables", and the MQTT discovery page for `device`), the
 * yardstick the discovery messages are checked against: a key Home Assistant does not know is
 * refused by its schema, and the entity never appears.
 */

const COMMON = [
  'availability',
  'availability_mode',
  'availability_template',
  'availability_topic',
  'default_entity_id',
  'device',
  'enabled_by_default',
  'encoding',
  'entity_category',
  'entity_picture',
  'icon',
  'json_attributes_template',
  'json_attributes_topic',
  'name',
  'object_id',
  'origin',
  'payload_available',
  'payload_not_available',
  'platform',
  'qos',
  'unique_id',
];

export const DOCUMENTED_KEYS: Readonly<Record<string, { readonly keys: ReadonlySet<string>; readonly required: readonly string[] }>> = {
  sensor: {
    keys: new Set([
      ...COMMON,
      'device_class',
      'expire_after',
      'force_update',
      'last_reset_value_template',
      'options',
      'suggested_display_precision',
      'state_class',
      'state_topic',
      'unit_of_measurement',
      'value_template',
    ]),
    required: ['state_topic'],
  },
  number: {
    keys: new Set([
      ...COMMON,
      'command_template',
      'command_topic',
      'device_class',
      'max',
      'min',
      'mode',
      'optimistic',
      'payload_reset',
      'retain',
      'state_topic',
      'step',
      'unit_of_measurement',
      'value_template',
    ]),
    required: ['command_topic'],
  },
  switch: {
    keys: new Set([
      ...COMMON,
      'command_template',
      'command_topic',
      'device_class',
      'optimistic',
      'payload_off',
      'payload_on',
      'retain',
      'state_off',
      'state_on',
      'state_topic',
      'value_template',
    ]),
    required: [],
  },
  select: {
    keys: new Set([...COMMON, 'command_template', 'command_topic', 'optimistic', 'options', 'retain', 'state_topic', 'value_template']),
    required: ['command_topic', 'options'],
  },
};

export const DEVICE_KEYS: ReadonlySet<string> = new Set([
  'configuration_url',
  'connections',
  'hw_version',
  'identifiers',
  'manufacturer',
  'model',
  'model_id',
  'name',
  'serial_number',
  'suggested_area',
  'sw_version',
  'via_device',
]);

/** Sensor device classes and state classes as documented (the ones a wallbox can use). */
const SENSOR_DEVICE_CLASSES = new Set(['power', 'energy', 'current', 'voltage', 'enum', 'duration', 'temperature']);
const STATE_CLASSES = new Set(['measurement', 'total', 'total_increasing']);

/** What is wrong with one discovery config for `component` (empty: nothing). */
export function discoveryProblems(component: string, config: Record<string, unknown>): string[] {
  const spec = DOCUMENTED_KEYS[component];
  if (spec === undefined) return [`${component}: not a component checked here`];
  const problems: string[] = [];
  for (const key of Object.keys(config)) if (!spec.keys.has(key)) problems.push(`${component}: undocumented key ${key}`);
  for (const key of spec.required) if (config[key] === undefined) problems.push(`${component}: required key ${key} missing`);
  const device = config['device'] as Record<string, unknown> | undefined;
  if (device !== undefined)
    for (const key of Object.keys(device)) if (!DEVICE_KEYS.has(key)) problems.push(`device: undocumented key ${key}`);
  if (component === 'sensor') {
    const deviceClass = config['device_class'];
    if (deviceClass !== undefined && !SENSOR_DEVICE_CLASSES.has(String(deviceClass)))
      problems.push(`sensor: device_class ${String(deviceClass)}`);
    if (config['state_class'] !== undefined && !STATE_CLASSES.has(String(config['state_class'])))
      problems.push(`sensor: state_class ${String(config['state_class'])}`);
    // An enum sensor has options and neither a unit nor a state class.
    if (
      deviceClass === 'enum' &&
      (!Array.isArray(config['options']) || config['unit_of_measurement'] !== undefined || config['state_class'] !== undefined)
    )
      problems.push('sensor: enum needs options, no unit, no state_class');
  }
  if (component === 'number' && config['mode'] !== undefined && !['auto', 'box', 'slider'].includes(String(config['mode'])))
    problems.push(`number: mode ${String(config['mode'])}`);
  if (component === 'select' && !(Array.isArray(config['options']) && config['options'].every((o) => typeof o === 'string')))
    problems.push('select: options must be strings');
  return problems;
}

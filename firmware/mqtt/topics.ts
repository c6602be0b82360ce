/** CONTRACT §8: the topics under `mqtt.topicPrefix` (P). */
export interface Topics {
  readonly prefix: string;
  /** `online` / `offline`, retained; the last will. */
  readonly availability: string;
  /** The status JSON, retained. */
  readonly status: string;
  /** `{"topic", "reason"}` for a refused command, not retained. */
  readonly error: string;
  /** The command topics: the energy manager's inputs (Modbus 8093, 8094, 8087). */
  readonly set: { readonly limit: string; readonly enable: string; readonly phases: string };
  /** What the box subscribes to: every command topic, also unknown ones (they are answered on `error`). */
  readonly commands: string;
}

/** A serial number as one topic level / Home Assistant node id: letters, digits, `_` and `-` only. */
export function topicSafe(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9_-]/g, '_');
  return safe === '' ? 'wallbox' : safe;
}

/** `mqtt.topicPrefix`, or "wallbox/<serial number>" when it is not set. */
export function topicPrefix(configured: string | undefined, serialNumber: string): string {
  return configured ?? `wallbox/${topicSafe(serialNumber)}`;
}

export function topicsFor(prefix: string): Topics {
  return {
    prefix,
    availability: `${prefix}/availability`,
    status: `${prefix}/status`,
    error: `${prefix}/error`,
    set: { limit: `${prefix}/set/limit`, enable: `${prefix}/set/enable`, phases: `${prefix}/set/phases` },
    commands: `${prefix}/set/+`,
  };
}

import type { OcppServices } from '../services.js';
import type { SecurityEventType } from '../security-events.js';

/** What this message uses. */
export type Deps = Pick<OcppServices, 'rpc'>;

/** A security event as it waits to be sent. */
export interface SecurityEvent {
  readonly type: SecurityEventType;
  readonly timestamp: string;
  /** At most 255 characters (the schema's). */
  readonly techInfo?: string;
}

/** SecurityEventNotification (security extension, sent by the charge point). */
export async function send(deps: Deps, event: SecurityEvent): Promise<void> {
  await deps.rpc.call('SecurityEventNotification', {
    type: event.type,
    timestamp: event.timestamp,
    ...(event.techInfo !== undefined && { techInfo: event.techInfo }),
  });
}

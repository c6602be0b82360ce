import type { Logger } from '../log.js';
import * as SecurityEventNotification from './operations/SecurityEventNotification.js';
import type { OcppRpc } from './rpc.js';

/** The security events of the OCPP 1.6 security whitepaper (Appendix 1) this charge point reports. */
export type SecurityEventType =
  | 'FirmwareUpdated'
  | 'FailedToAuthenticateAtCentralSystem'
  | 'CentralSystemFailedToAuthenticate'
  | 'SettingSystemTime'
  | 'StartupOfTheDevice'
  | 'ResetOrReboot'
  | 'SecurityLogWasCleared'
  | 'ReconfigurationOfSecurityParameters'
  | 'MemoryExhaustion'
  | 'InvalidMessages'
  | 'AttemptedReplayAttacks'
  | 'TamperDetectionActivated'
  | 'InvalidFirmwareSignature'
  | 'InvalidFirmwareSigningCertificate'
  | 'InvalidCentralSystemCertificate'
  | 'InvalidChargePointCertificate'
  | 'InvalidTLSVersion'
  | 'InvalidTLSCipherSuite';

/** Events that record what the box or its operator did, not an attack or a failure: logged at info. */
const ROUTINE: ReadonlySet<SecurityEventType> = new Set([
  'FirmwareUpdated',
  'SettingSystemTime',
  'StartupOfTheDevice',
  'ResetOrReboot',
  'ReconfigurationOfSecurityParameters',
]);

/** Events kept while the central system cannot be told; the oldest go first when more come. */
const MAX_PENDING = 100;

export interface SecurityEventsOptions {
  readonly rpc: OcppRpc;
  readonly log: Logger;
  /** OCPP time now. */
  readonly timestamp: () => string;
  /** BootNotification is Accepted and the link is up. */
  readonly canSend: () => boolean;
}

/**
 * SecurityEventNotification. Every event is written to the log at once (with `securityEvent`, the
 * security log that GetLog uploads) and sent to the central system in order when it can be told.
 */
export class SecurityEvents {
  readonly #o: SecurityEventsOptions;
  #pending: SecurityEventNotification.SecurityEvent[] = [];
  #dropped = 0;
  #sending = false;

  constructor(options: SecurityEventsOptions) {
    this.#o = options;
  }

  report(type: SecurityEventType, techInfo?: string): void {
    // techInfo is at most 255 characters in the schema.
    const info = techInfo?.slice(0, 255);
    const fields = { securityEvent: type, ...(info !== undefined && { techInfo: info }) };
    if (ROUTINE.has(type)) this.#o.log.info('security event', fields);
    else this.#o.log.warn('security event', fields);
    this.#pending.push({ type, timestamp: this.#o.timestamp(), ...(info !== undefined && { techInfo: info }) });
    if (this.#pending.length > MAX_PENDING) {
      this.#pending.shift();
      this.#dropped += 1;
    }
    void this.flush();
  }

  /** Sends what is pending, in order; stops at the first failure (tried again at the next link up). */
  async flush(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      if (this.#dropped > 0 && this.#o.canSend()) {
        this.#o.log.warn('security events dropped while the central system could not be told', { dropped: this.#dropped });
        this.#dropped = 0;
      }
      for (let event = this.#pending[0]; event !== undefined && this.#o.canSend(); event = this.#pending[0]) {
        await SecurityEventNotification.send(this.#o, event);
        this.#pending.shift();
      }
    } catch (err) {
      this.#o.log.warn('SecurityEventNotification failed; kept for the next connection', { reason: (err as Error).message });
    } finally {
      this.#sending = false;
    }
  }
}

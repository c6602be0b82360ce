import type { Logger } from '../log.js';
import type { RequestOf } from './messages.js';
import type { OcppRpc } from './rpc.js';
import type { NotificationAction, Notifier } from './services.js';

export interface NotificationsOptions {
  readonly rpc: OcppRpc;
  readonly log: Logger;
  /** Boot Accepted and the link up. */
  readonly online: () => boolean;
}

/**
 * Status notifications (FirmwareStatusNotification, DiagnosticsStatusNotification…): sent now when
 * online, else once Boot is Accepted again, only the latest per action kept meanwhile.
 */
export class Notifications implements Notifier {
  readonly #o: NotificationsOptions;
  readonly #waiting = new Map<NotificationAction, () => Promise<void>>();

  constructor(options: NotificationsOptions) {
    this.#o = options;
  }

  async notify<A extends NotificationAction>(action: A, payload: RequestOf<A>): Promise<void> {
    if (!this.#o.online()) {
      this.#waiting.set(action, () => this.notify(action, payload));
      return;
    }
    await this.#o.rpc
      .call(action, payload)
      .catch((err: unknown) => this.#o.log.warn(`${action} failed`, { reason: (err as Error).message }));
  }

  /** The central system can be told again: what waited goes out. */
  sendWaiting(): void {
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const send of waiting) void send();
  }
}

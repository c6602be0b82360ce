export type BootState = 'none' | 'Pending' | 'Rejected' | 'Accepted';

/**
 * Where BootNotification stands. Built before everything that sends, so the RPC (which serves no
 * CALL while Boot is Rejected) and every sender (which waits for Accepted) can read it from the
 * start; the session writes it.
 */
export class BootStatus {
  state: BootState = 'none';

  /** OCPP 1.6 §4.2: a charge point whose BootNotification was Rejected does not respond. */
  get serving(): boolean {
    return this.state !== 'Rejected';
  }

  /** Boot Accepted and the link up (`connected`: the RPC has a transport): the central system can be told. */
  online(link: { readonly connected: boolean }): boolean {
    return this.state === 'Accepted' && link.connected;
  }
}

/**
 * A change that services built later follow: the source emits it, the followers subscribe once they
 * exist, so the source never holds a callback into a service not built yet.
 */
export class ChangeSignal<T = void> {
  readonly #listeners = new Set<(value: T) => void>();

  on(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(value: T): void {
    for (const listener of this.#listeners) listener(value);
  }
}

import type { ServerResponse } from 'node:http';

/** Most browsers watching at once (each holds a connection open). */
export const MAX_LIVE_CLIENTS = 16;
/**
 * What may wait unsent for one live client, beyond what the kernel already holds (CONTRACT §10):
 * about a minute of status pushes. A browser reads every event as it comes; a client that does not
 * read is dropped past it (it reconnects by itself when it wakes up, `retry:` below).
 */
export const MAX_LIVE_BUFFER_BYTES = 64 * 1024;

interface Client {
  readonly res: ServerResponse;
  readonly token: string;
}

/**
 * The live stream (Server-Sent Events, `GET /api/live`): `status` on every change and once a
 * second, `event` for each new recent event, `sample` for each new chart point. A client whose
 * session ended (logout, expiry) is disconnected, and so is one that does not read what is sent.
 */
export class LiveStream {
  readonly #clients = new Set<Client>();

  get size(): number {
    return this.#clients.size;
  }

  /** Opens the stream on `res` and sends `initial` first. False when too many are open. */
  open(res: ServerResponse, token: string, initial: Array<[string, unknown]>): boolean {
    if (this.#clients.size >= MAX_LIVE_CLIENTS) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client = { res, token };
    this.#clients.add(client);
    res.on('close', () => this.#clients.delete(client));
    // The browser reconnects by itself after a drop; 2 s keeps a restarted box quick to come back.
    res.write('retry: 2000\n\n');
    for (const [event, data] of initial) res.write(sseFrame(event, data));
    return true;
  }

  send(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const text = sseFrame(event, data);
    for (const client of this.#clients) {
      client.res.write(text);
      // `write()` returning false alone is no reason: a burst of events may pass the high-water mark; the bound is.
      if (client.res.writableLength <= MAX_LIVE_BUFFER_BYTES) continue;
      this.#clients.delete(client);
      client.res.destroy();
    }
  }

  /** Ends the streams whose session `valid` no longer accepts. */
  prune(valid: (token: string) => boolean): void {
    for (const client of [...this.#clients]) {
      if (valid(client.token)) continue;
      this.#clients.delete(client);
      client.res.end();
    }
  }

  closeAll(): void {
    for (const client of this.#clients) client.res.end();
    this.#clients.clear();
  }
}

function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

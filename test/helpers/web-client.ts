import type { FirmwareProcess, RunningBox } from './firmware-process.js';

/** A spawned box (`startBox`) or the in-process one (`boxRig`): its HTTP port and its log. */
export type WebBox = Pick<RunningBox, 'httpPort'> & { readonly fw: Pick<FirmwareProcess, 'waitForLog'> };

/** A browser-like client of the box's HTTP API: keeps the session cookie, sends JSON. */
export interface WebReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

export class WebClient {
  cookie: string | null = null;

  constructor(readonly base: string) {}

  /** `body` is sent as JSON unless `raw` gives the exact text (and `contentType` its type). */
  async call(
    method: string,
    path: string,
    body?: unknown,
    options: { raw?: string; contentType?: string; headers?: Record<string, string>; cookie?: string | null } = {},
  ): Promise<WebReply> {
    const cookie = options.cookie === undefined ? this.cookie : options.cookie;
    const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(payload !== undefined && { 'content-type': options.contentType ?? 'application/json' }),
        ...(cookie !== null && { cookie }),
        ...options.headers,
      },
      ...(payload !== undefined && { body: payload }),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie !== null && options.cookie === undefined) this.cookie = setCookie.split(';')[0] ?? null;
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? null : (JSON.parse(text) as unknown) };
  }
}

/** The first-start setup code the firmware printed. */
export async function setupCode(box: WebBox): Promise<string> {
  const line = await box.fw.waitForLog((l) => typeof l['setupCode'] === 'string');
  return String(line['setupCode']);
}

/** A client of `box`'s API logged in with `password`, set through the setup code at first start. */
export async function setUpAndLogIn(box: WebBox, password: string): Promise<WebClient> {
  if (box.httpPort === null) throw new Error('the box was started without http');
  const client = new WebClient(`http://127.0.0.1:${box.httpPort}`);
  const reply = await client.call('POST', '/api/setup', { setupCode: await setupCode(box), password });
  if (reply.status !== 200) throw new Error(`setup failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return client;
}

/** Enables the HTTP API on a free loopback port in `startBox`'s extra config. */
export const HTTP_ON_ANY_PORT = { http: { host: '127.0.0.1', port: 0 } } as const;

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepTrying } from '../config-check.js';
import { every, type Clock } from '../../hal/clock.js';
import type { ConfigOverlay } from '../config-overlay.js';
import type { Firmware } from '../firmware.js';
import type { Logger } from '../log.js';
import { Activity } from './activity.js';
import { EventRing } from './events.js';
import { TransactionHistory } from './history.js';
import { HttpError, sendJson } from './http-io.js';
import { LiveStream } from './live.js';
import { LoginLimiter } from './login-limiter.js';
import { PasswordFile } from './password.js';
import { accessRoutes, newSetupCode } from './access-routes.js';
import { apiRoutes, type Handler, type Reply, type RouteTable } from './routes.js';
import { Samples } from './samples.js';
import { statusView } from './status-view.js';
import { Sessions, sessionToken } from './sessions.js';
import { loadWebFiles, type StaticFile } from './static-files.js';

export interface WebInterfaceOptions {
  readonly firmware: Firmware;
  readonly overlay: ConfigOverlay;
  readonly clock: Clock;
  readonly log: Logger;
  /** Folder of the bundled web page (dist/web). */
  readonly webRoot: string;
}

/** The live stream's status push: at most this often on changes, and at least this often for the meter. */
const LIVE_PERIOD_MS = 1000;
const LIVE_CHANGE_MIN_MS = 200;

/**
 * Connections open at once (CONTRACT §10): a browser opens about 6, the live streams are at most
 * 16; past it the kernel's backlog holds new ones and Node closes what it cannot take, so held-open
 * connections cannot grow the firmware's memory. A connection that has not sent its headers within
 * HEADERS_TIMEOUT_MS is closed (checked every CONNECTION_CHECK_MS, Node's default being 30 s).
 */
export const MAX_HTTP_CONNECTIONS = 64;
export const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const CONNECTION_CHECK_MS = 1000;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

/**
 * The local HTTP API and web page on `http` of the config. Everything under /api but the login
 * needs a session; state-changing requests must be JSON from the box's own origin (CSRF).
 */
export class WebInterface {
  readonly #o: WebInterfaceOptions;
  readonly #log: Logger;
  readonly #server: Server;
  readonly #sessions: Sessions;
  readonly #limiter: LoginLimiter;
  readonly #password: PasswordFile;
  readonly #events: EventRing;
  readonly #samples: Samples;
  readonly #live = new LiveStream();
  readonly #pause = { paused: false };
  #history: TransactionHistory | null = null;
  #activity: Activity | null = null;
  #routes: RouteTable = new Map();
  readonly #access: RouteTable;
  #files = new Map<string, StaticFile>();
  readonly #setup: { code: string | null } = { code: null };
  #stopTimers: Array<() => void> = [];
  #lastPushMs = 0;
  #pushPending = false;

  constructor(options: WebInterfaceOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'http' });
    this.#sessions = new Sessions(options.clock);
    this.#limiter = new LoginLimiter(options.clock);
    this.#password = new PasswordFile(options.overlay.config.dataDir);
    this.#events = new EventRing(options.clock);
    this.#samples = new Samples(options.firmware.charging, options.clock);
    // A slow or silent client must not hold a connection for ever.
    this.#server = createServer(
      { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: CONNECTION_CHECK_MS },
      (req, res) => void this.#handle(req, res),
    );
    this.#server.maxConnections = MAX_HTTP_CONNECTIONS;
    this.#access = accessRoutes({
      sessions: this.#sessions,
      limiter: this.#limiter,
      password: this.#password,
      events: this.#events,
      log: this.#log,
      live: this.#live,
      setup: this.#setup,
    });
  }

  /** Loads the history and the page, records activity from now on. Call before the firmware starts (to see its first transactions). */
  async prepare(): Promise<void> {
    const { firmware, overlay, clock } = this.#o;
    this.#history = await TransactionHistory.load(overlay.config.dataDir, this.#log);
    this.#activity = new Activity(firmware, clock, this.#events, this.#history);
    this.#files = await loadWebFiles(this.#o.webRoot);
    if (!this.#files.has('/')) this.#log.warn('web page not found: the API works, the page does not', { webRoot: this.#o.webRoot });
    this.#routes = apiRoutes({
      firmware,
      overlay,
      clock,
      log: this.#log,
      events: this.#events,
      history: this.#history,
      samples: this.#samples,
      live: this.#live,
      pause: this.#pause,
      pendingRestart: new Set(),
    });
  }

  /**
   * Listens on the first of `endpoints` that works (0 = any free port, logged): the configured
   * one, then the config file's where the run-time overlay changed it. When none does, it is
   * logged and tried again with backoff: the firmware goes on without its web interface meanwhile.
   */
  async start(endpoints: ReadonlyArray<{ readonly host: string; readonly port: number }>): Promise<void> {
    if (this.#activity === null) await this.prepare();
    this.#activity?.start();
    this.#samples.start();
    const { firmware, clock } = this.#o;
    this.#stopTimers.push(
      firmware.charging.onChange(() => this.#pushSoon()),
      this.#events.onEvent((event) => this.#live.send('event', event)),
      this.#samples.onSample((sample) => this.#live.send('sample', sample)),
      every(clock, LIVE_PERIOD_MS, () => {
        this.#live.prune((token) => this.#sessions.valid(token));
        this.#pushStatus();
      }),
    );
    const retries = keepTrying(
      'HTTP API',
      endpoints.map(
        ({ host, port }) =>
          () =>
            this.#listen(host, port),
      ),
      clock,
      this.#log,
    );
    this.#stopTimers.push(() => retries.stop());
    await retries.firstRound;
  }

  async #listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const bound = (this.#server.address() as AddressInfo).port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`;
    this.#log.info('HTTP API listening', { host, port: bound, url });
    const problem = await this.#password.problem();
    if (problem !== null)
      this.#log.error('web password store unreadable: the web API refuses every request until it is set again', { reason: problem });
    else if (!(await this.#password.isSet())) {
      this.#setup.code = newSetupCode();
      this.#log.warn('web interface has no password yet: open the page and set one with this setup code (or run npm run http-password)', {
        url,
        setupCode: this.#setup.code,
      });
    }
  }

  async stop(): Promise<void> {
    for (const stop of this.#stopTimers) stop();
    this.#stopTimers = [];
    this.#samples.stop();
    this.#activity?.stop();
    this.#live.closeAll();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    await this.#history?.flush();
  }

  #pushSoon(): void {
    if (this.#live.size === 0 || this.#pushPending) return;
    const waitMs = Math.max(0, this.#lastPushMs + LIVE_CHANGE_MIN_MS - this.#o.clock.now());
    this.#pushPending = true;
    this.#o.clock.setTimeout(() => {
      this.#pushPending = false;
      this.#pushStatus();
    }, waitMs);
  }

  #pushStatus(): void {
    if (this.#live.size === 0) return;
    this.#lastPushMs = this.#o.clock.now();
    this.#live.send('status', statusView(this.#o.firmware, this.#pause.paused, this.#o.clock.now()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    try {
      const path = new URL(req.url ?? '/', 'http://box').pathname;
      if (path.startsWith('/api/')) {
        const problem = await this.#password.problem();
        if (problem !== null) throw new HttpError(503, problem);
        const reply = await this.#api(req, res, path);
        if (reply !== null) this.#reply(res, reply);
        return;
      }
      this.#static(req, res, path);
    } catch (err) {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (err instanceof HttpError) {
        sendJson(res, err.status, { error: err.message }, err.headers);
        return;
      }
      // Never the firmware's problem: the request fails, the box goes on.
      this.#log.error('HTTP API request failed', { method: req.method, url: req.url, err });
      sendJson(res, 500, { error: 'internal error (logged)' });
    }
  }

  #reply(res: ServerResponse, reply: Reply): void {
    if (reply.body === undefined) {
      res.writeHead(reply.status ?? 204, { 'cache-control': 'no-store', ...reply.headers });
      res.end();
      return;
    }
    sendJson(res, reply.status ?? 200, reply.body, reply.headers);
  }

  #static(req: IncomingMessage, res: ServerResponse, path: string): void {
    const file = this.#files.get(path);
    if (!file) throw new HttpError(404, `no such page: ${path}`);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpError(405, `${req.method ?? ''} not allowed on ${path}`, { allow: 'GET, HEAD' });
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.body.length), 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }

  async #api(req: IncomingMessage, res: ServerResponse, path: string): Promise<Reply | null> {
    const method = req.method ?? 'GET';
    const token = sessionToken(req.headers.cookie);
    const address = req.socket.remoteAddress ?? 'unknown';
    const ctx = { req, res, token: token ?? '', address };
    const publicRoute = this.#access.get(path);
    if (publicRoute) return this.#dispatch(publicRoute, method, path, ctx);
    if (!this.#sessions.touch(token)) throw new HttpError(401, 'not logged in');
    const route = this.#routes.get(path);
    if (!route) throw new HttpError(404, `no route ${path}`);
    return this.#dispatch(route, method, path, ctx);
  }

  #dispatch(
    route: Readonly<Partial<Record<string, Handler>>>,
    method: string,
    path: string,
    ctx: Parameters<Handler>[0],
  ): Promise<Reply | null> {
    const handler = route[method];
    if (!handler) throw new HttpError(405, `${method} not allowed on ${path}`, { allow: Object.keys(route).join(', ') });
    if (method !== 'GET' && method !== 'HEAD') this.#checkOrigin(ctx.req);
    return handler(ctx);
  }

  /**
   * CSRF: a state-changing request must carry JSON (a form on another site cannot send that
   * without a CORS preflight, which this server never grants) and, when the browser names its
   * origin, come from the page's own. The session cookie is SameSite=Strict besides.
   */
  #checkOrigin(req: IncomingMessage): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') throw new HttpError(415, 'content-type: must be application/json');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`)
      throw new HttpError(403, `origin: ${origin} may not change this box`);
  }
}

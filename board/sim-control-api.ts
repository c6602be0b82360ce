import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Type, type TUnsafe } from '@sinclair/typebox';
import type { Clock } from '../hal/clock.js';
import { bodyParser, HttpError, readJson, sendJson } from '../firmware/http/http-io.js';
import type { Logger } from '../firmware/log.js';
import { evCurrentForDutyPct, type EvRequest, type PpCurrentA } from '../hal/sim/ev.js';
import type { SimRfidReader } from '../hal/sim/peripherals.js';
import { SIM_FAULTS, type SimFault, type SimPlant } from '../hal/sim/plant.js';

/** A schema accepting exactly `values`, typed as their union. */
function oneOf<T extends string | number>(values: readonly T[]): TUnsafe<T> {
  return Type.Unsafe<T>({ enum: [...values] });
}

const EvBody = Type.Object(
  {
    state: Type.Optional(oneOf<EvRequest>(['A', 'B', 'C', 'D'])),
    ppCurrentA: Type.Optional(oneOf<PpCurrentA>([0, 13, 20, 32, 63])),
    maxCurrentA: Type.Optional(Type.Number({ minimum: 0, maximum: 80 })),
    phases: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(3)])),
    followDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
const RfidBody = Type.Object({ idTag: Type.String({ minLength: 1, maxLength: 20 }) }, { additionalProperties: false });
const FaultBody = Type.Object({ kind: oneOf<SimFault | 'none'>([...SIM_FAULTS, 'none']) }, { additionalProperties: false });

const InputsBody = Type.Object({ gridControl: Type.Boolean() }, { additionalProperties: false });

/**
 * The bounds of this API (CONTRACT §10, as for the firmware's own HTTP inputs): it runs on the
 * control side's main thread, beside the control loop, so a client gone wild must not be able to
 * load it. Bodies up to 16 KiB (413 beyond); at most 16 connections (a test or the bench uses a
 * few; more are closed at once); a connection silent for 5 s is closed (Node's own headersTimeout
 * misses half-sent headers while another connection is idle), the whole request within 10 s; and
 * requests at SIM_API_RATE_PER_S on average with bursts of SIM_API_BURST (429 beyond), above the
 * benchmark's polling (one GET every 2 ms, each waiting for the last).
 */
export const SIM_API_MAX_BODY_BYTES = 16 * 1024;
export const SIM_API_MAX_CONNECTIONS = 16;
export const SIM_API_IDLE_TIMEOUT_MS = 5000;
const SIM_API_REQUEST_TIMEOUT_MS = 10_000;
export const SIM_API_RATE_PER_S = 1000;
export const SIM_API_BURST = 200;

const parseEv = bodyParser(EvBody);
const parseRfid = bodyParser(RfidBody);
const parseFault = bodyParser(FaultBody);
const parseInputs = bodyParser(InputsBody);

/** The contact state that means "limit" (`grid.activeWhen`): `gridControl` is the signal, the plant holds the contact. */
export type GridActiveWhen = 'closed' | 'open';

/** What `GET /sim` answers (CONTRACT §7). */
export function simSnapshot(
  plant: SimPlant,
  publicKeyPem: string | null = null,
  gridActiveWhen: GridActiveWhen = 'closed',
): Record<string, unknown> {
  const pilot = plant.pilot;
  const meter = plant.meterReading();
  const ev = plant.ev.settings;
  const pwmDutyPct = pilot.mode === 'pwm' ? pilot.dutyPct : pilot.mode === 'F' ? 0 : 100;
  const offeredCurrentA = pilot.mode === 'pwm' ? Math.round(evCurrentForDutyPct(pilot.dutyPct) * 10) / 10 : 0;
  return {
    cp: plant.lineState(),
    pilot: pilot.mode,
    pwmDutyPct,
    offeredCurrentA,
    relayClosed: plant.contactorCommanded,
    contactorMirror: plant.contactsClosed(),
    phaseRelay: plant.phaseRelay,
    phases: plant.activePhases(),
    locked: plant.lockCommanded,
    ppCurrentA: ev.ppCurrentA,
    ev: { state: ev.state, maxCurrentA: ev.maxCurrentA, phases: ev.phases, followDelayMs: ev.followDelayMs },
    meter: {
      energyWh: meter.energyWh,
      powerW: meter.powerW,
      currentsA: meter.currentsA,
      ...(publicKeyPem !== null && { publicKey: publicKeyPem }),
    },
    faults: [...plant.faults],
    inputs: { gridControl: plant.gridContactClosed === (gridActiveWhen === 'closed') },
    changedAtMs: { ...plant.changedAtMs },
  };
}

export interface SimControlApiOptions {
  readonly plant: SimPlant;
  readonly rfid: SimRfidReader;
  readonly log: Logger;
  /** The signing meter's public key (`sim.signedMeter`), shown in `GET /sim`; null = the meter does not sign. */
  readonly publicKeyPem?: string | null;
  /** `grid.activeWhen` of the config ("closed" without a grid section). */
  readonly gridActiveWhen?: GridActiveWhen;
  /** Times the request rate bound. */
  readonly clock: Clock;
}

/** A token bucket: `burst` requests at once, refilled at `ratePerS`. */
class RequestBudget {
  #tokens: number;
  #atMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly ratePerS: number,
    private readonly burst: number,
  ) {
    this.#tokens = burst;
    this.#atMs = clock.now();
  }

  take(): boolean {
    const nowMs = this.clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((nowMs - this.#atMs) * this.ratePerS) / 1000);
    this.#atMs = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** HTTP on loopback that plays the car and the hardware (CONTRACT §7). */
export class SimControlApi {
  readonly #plant: SimPlant;
  readonly #rfid: SimRfidReader;
  readonly #log: Logger;
  readonly #publicKeyPem: string | null;
  readonly #server: Server;
  readonly #gridActiveWhen: GridActiveWhen;
  readonly #budget: RequestBudget;

  constructor(options: SimControlApiOptions) {
    this.#plant = options.plant;
    this.#rfid = options.rfid;
    this.#log = options.log;
    this.#publicKeyPem = options.publicKeyPem ?? null;
    this.#gridActiveWhen = options.gridActiveWhen ?? 'closed';
    // The contact starts in the state that does not limit.
    this.#plant.gridContactClosed = this.#gridActiveWhen === 'open';
    this.#budget = new RequestBudget(options.clock, SIM_API_RATE_PER_S, SIM_API_BURST);
    this.#server = createServer(
      {
        headersTimeout: SIM_API_IDLE_TIMEOUT_MS,
        requestTimeout: SIM_API_REQUEST_TIMEOUT_MS,
        connectionsCheckingInterval: SIM_API_IDLE_TIMEOUT_MS / 5,
      },
      (req, res) => void this.#handle(req, res),
    );
    this.#server.maxConnections = SIM_API_MAX_CONNECTIONS;
    this.#server.timeout = SIM_API_IDLE_TIMEOUT_MS;
    this.#server.on('timeout', (socket: Socket) => socket.destroy());
  }

  /** The port it listens on (after listen). */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Listens; resolves with the port (useful with port 0). */
  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        this.#log.info('simulator control API listening', { host, port: (this.#server.address() as AddressInfo).port });
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!this.#budget.take()) {
        // The body is not read: the connection closes after the answer rather than carry it.
        sendJson(res, 429, { error: `more than ${SIM_API_RATE_PER_S} requests a second` }, { 'retry-after': '1', connection: 'close' });
        return;
      }
      const route = `${req.method ?? ''} ${(req.url ?? '').split('?')[0]}`;
      switch (route) {
        case 'GET /sim':
          break;
        case 'POST /sim/ev': {
          const body = parseEv(await readJson(req, SIM_API_MAX_BODY_BYTES));
          this.#plant.configureEv(body);
          break;
        }
        case 'POST /sim/rfid':
          this.#rfid.present(parseRfid(await readJson(req, SIM_API_MAX_BODY_BYTES)).idTag);
          break;
        case 'POST /sim/fault':
          this.#plant.setFault(parseFault(await readJson(req, SIM_API_MAX_BODY_BYTES)).kind);
          break;
        case 'POST /sim/inputs': {
          const { gridControl } = parseInputs(await readJson(req, SIM_API_MAX_BODY_BYTES));
          this.#plant.gridContactClosed = gridControl === (this.#gridActiveWhen === 'closed');
          break;
        }
        default:
          throw new HttpError(404, `no route ${route}`);
      }
      sendJson(res, 200, simSnapshot(this.#plant, this.#publicKeyPem, this.#gridActiveWhen));
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) this.#log.error('simulator control API failed', { err });
      sendJson(res, status, { error: (err as Error).message });
    }
  }
}

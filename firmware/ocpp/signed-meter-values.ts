import type { Clock } from '../../hal/clock.js';
import type { Identification, IdentificationType, SigningMeter, SigningMeterIdentity } from '../../hal/meter.js';
import type { Logger } from '../log.js';
import type { MeterValue } from './model/meter-sample.js';

/** How long the firmware waits for the signing meter before it counts as not answering. */
export const SIGNING_METER_TIMEOUT_MS = 5000;

/** What the status API shows of the signing meter (CONTRACT §9). */
export interface SignedMeterStatus {
  readonly meterType: string | null;
  readonly meterSerialNumber: string | null;
  readonly publicKey: string | null;
  /** Why the last call failed (no charge was permitted for a begin that failed); null when it answered. */
  readonly error: string | null;
}

/** A SampledValue carrying a signed record as the meter made it (OCPP 1.6 ValueFormat SignedData). */
export function signedMeterValue(record: string, context: 'Transaction.Begin' | 'Transaction.End', timestamp: string): MeterValue {
  return {
    timestamp,
    sampledValue: [{ value: record, context, format: 'SignedData', measurand: 'Energy.Active.Import.Register', location: 'Outlet' }],
  };
}

/**
 * The OCPP side's use of a calibration-law meter (CONTRACT §9): every call bounded in time, its
 * failure logged and kept for the status API, the idTag's kind remembered from how it arrived
 * (card, RemoteStart, the fixed idTag). The records themselves are passed on untouched.
 */
export class SignedMeterValues {
  readonly #meter: SigningMeter;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #fixedIdTag: string;
  readonly #timeoutMs: number;
  #identity: SigningMeterIdentity | null = null;
  #error: string | null = null;
  /** The latest idTag presented by card or RemoteStart, and how. */
  #presented: Identification | null = null;
  /** The meter may still have a transaction open that no OCPP transaction owns (a recovery or an end that failed). */
  #unsettled = true;

  constructor(options: { meter: SigningMeter; clock: Clock; log: Logger; fixedIdTag: string; timeoutMs?: number }) {
    this.#meter = options.meter;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#fixedIdTag = options.fixedIdTag;
    this.#timeoutMs = options.timeoutMs ?? SIGNING_METER_TIMEOUT_MS;
  }

  get status(): SignedMeterStatus {
    const id = this.#identity;
    return {
      meterType: id?.meterType ?? null,
      meterSerialNumber: id?.meterSerialNumber ?? null,
      publicKey: id?.publicKeyPem ?? null,
      error: this.#error,
    };
  }

  /** An idTag arrived by card or RemoteStart: the meter's identification type of a transaction it starts. */
  presented(idTag: string, type: Extract<IdentificationType, 'ISO14443' | 'CENTRAL'>): void {
    this.#presented = { idTag, type };
  }

  /** The meter's identity (read once); null when it does not answer. */
  async identity(): Promise<SigningMeterIdentity | null> {
    if (this.#identity === null) this.#identity = await this.#call('identity', () => this.#meter.identity());
    return this.#identity;
  }

  /** Begins the meter's transaction; the begin record, or null when the meter failed (then no charge). */
  async begin(idTag: string): Promise<string | null> {
    const type = this.#presented?.idTag === idTag ? this.#presented.type : idTag === this.#fixedIdTag ? 'LOCAL' : 'ISO14443';
    this.#presented = null;
    if (this.#identity === null) void this.identity();
    if (this.#unsettled) {
      // A meter transaction nobody owns would refuse every begin: ended first, its record unused.
      const stale = await this.end();
      if (this.#unsettled) return null;
      if (stale !== null) this.#log.warn('signing meter: a meter transaction left open was ended', { record: stale });
    }
    return this.#call('beginTransaction', () => this.#meter.beginTransaction({ idTag, type }));
  }

  /**
   * The begin record of a transaction about to start (CONTRACT §9: the meter's transaction is
   * begun before any charge is permitted). 'refused' when the start must not happen: the meter
   * did not begin (the status API and the log say why), or the car left meanwhile (the meter's
   * transaction is then ended unused).
   */
  async beginForStart(idTag: string, stillPlugged: () => boolean): Promise<string | 'refused'> {
    const record = await this.begin(idTag);
    if (record === null) {
      this.#log.error('transaction not started: the signing meter did not begin its transaction', { idTag });
      return 'refused';
    }
    if (!stillPlugged()) {
      this.#log.warn('car unplugged while the signing meter began its transaction: not started', { idTag });
      await this.end();
      return 'refused';
    }
    return record;
  }

  /** Ends the meter's transaction; the end record, or null when none was open or the meter failed. */
  async end(): Promise<string | null> {
    const record = await this.#call('endTransaction', () => this.#meter.endTransaction());
    this.#unsettled = this.#error !== null;
    return record;
  }

  /**
   * At boot: a meter transaction still open was cut with the box's. Its end record belongs to the
   * transaction the journal still has open; with none, nothing can carry it (logged).
   */
  async recover(openInJournal: boolean): Promise<string | null> {
    const record = await this.end();
    if (record !== null && !openInJournal)
      this.#log.warn('signing meter: a meter transaction without an OCPP transaction was ended', { record });
    return openInJournal ? record : null;
  }

  async #call<T>(what: string, call: () => Promise<T>): Promise<T | null> {
    let timer: ReturnType<Clock['setTimeout']> | null = null;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.#clock.setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      const result = await Promise.race([call(), timeout]);
      this.#error = null;
      return result;
    } catch (err) {
      this.#error = `${what}: ${(err as Error).message}`;
      this.#log.error('signing meter failed', { call: what, reason: (err as Error).message });
      return null;
    } finally {
      if (timer !== null) this.#clock.clearTimeout(timer);
    }
  }
}

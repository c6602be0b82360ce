import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { ChargingPort } from '../charging/port.js';
import type { Logger } from '../log.js';
import { packedVersion } from '../version.js';
import { decodeWrite, Exception, type ExceptionCode, type RegisterWrite } from './codec.js';
import type { RegisterModel } from './pdu.js';
import { REGISTERS, type RegisterName, type RegisterValues } from './registers.js';
import { evseStateCode } from './state-register.js';

/** Who we are on the bus (8000..8031). */
export interface Identity {
  readonly vendorId: number;
  readonly productId: number;
  readonly firmwareVersion: string;
  readonly serialNumber: string;
  readonly productName: string;
}

/** Run-time values that survive a restart: 8040 and 8081 (CONTRACT §2 overlay). */
export interface ModbusPersistence {
  saveUnitId(unitId: number): Promise<void>;
  /** 8081 in A; 0 means "paused until the energy manager writes 8093". */
  saveBootLimit(limitA: number): Promise<void>;
}

export interface ModbusModelOptions {
  readonly charging: ChargingPort;
  readonly clock: Clock;
  readonly log: Logger;
  readonly identity: Identity;
  readonly persistence: ModbusPersistence;
  readonly unitId: number;
  /** `evse.maxCurrentA` (8080). */
  readonly installationLimitA: number;
  /** 8081 in A at boot. */
  readonly bootLimitA: number;
  readonly meterAttached: boolean;
  /** `modbus.timeoutS`; 0 = no watchdog. */
  readonly timeoutS: number;
  /** `modbus.failsafeCurrentA`. */
  readonly failsafeCurrentA: number;
}

const deci = (a: number): number => Math.round(a * 10);

/** The energy-manager inputs another interface (MQTT) writes, named as their registers (8093, 8094, 8087). */
export type EnergyManagerCommand = Extract<RegisterName, 'currentLimit' | 'chargingEnable' | 'phaseSelection'>;

/**
 * The meaning of the cFos register map (CONTRACT §3): values read from the charging core and
 * the volatile energy-manager inputs kept here (8093, 8094), writes turned into limits for the
 * charging core. Modbus only writes its inputs; it never drives the pilot or the relays.
 */
export class ModbusModel implements RegisterModel {
  readonly #charging: ChargingPort;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #options: ModbusModelOptions;
  #unitId: number;
  #bootLimitDeciA: number;
  /** 8093 and 8094 as written (volatile). */
  #limitDeciA: number;
  #enable: number;
  #watchdogFired = false;
  #watchdogTimer: TimerHandle | null = null;
  /** When the master was last heard (or the model made): the watchdog counts from here. */
  #lastRequestMs: number;
  #frozenState: number | null = null;
  #idTag = '';

  constructor(options: ModbusModelOptions) {
    this.#options = options;
    this.#charging = options.charging;
    this.#clock = options.clock;
    this.#log = options.log.child({ module: 'modbus' });
    this.#unitId = options.unitId;
    this.#bootLimitDeciA = deci(options.bootLimitA);
    this.#limitDeciA = this.#bootLimitDeciA;
    this.#enable = 1;
    this.#lastRequestMs = this.#clock.now();
    this.#armWatchdog(this.#options.timeoutS * 1000);
    this.#pushLimits();
  }

  /** The unit id the slave answers to (8040). */
  get unitId(): number {
    return this.#unitId;
  }

  /** The energy manager's inputs as the status shows them: 8093 and 8094 as written, and the watchdog. */
  energyManager(): {
    readonly limitA: number;
    readonly enabled: boolean;
    readonly watchdog: { readonly timeoutS: number; readonly fired: boolean };
  } {
    return {
      limitA: this.#limitDeciA / 10,
      enabled: this.#enable === 1,
      watchdog: { timeoutS: this.#options.timeoutS, fired: this.#watchdogFired },
    };
  }

  /** The idTag of the running or last transaction (8096), set by the OCPP side. */
  setIdTag(idTag: string): void {
    this.#idTag = idTag;
  }

  /**
   * A valid request from the master arrived (reads included): the watchdog starts again, and a
   * fired watchdog ends.
   */
  requestSeen(): void {
    if (this.#watchdogFired) {
      this.#watchdogFired = false;
      this.#log.info('Modbus master back; watchdog failsafe ended');
      this.#pushLimits();
    }
    // No timer churn per request (issue #21): the armed timer, when it wakes, finds this time and waits on.
    this.#lastRequestMs = this.#clock.now();
    if (this.#watchdogTimer === null) this.#armWatchdog(this.#options.timeoutS * 1000);
  }

  values(): RegisterValues {
    const status = this.#charging.status();
    if (status.cp === 'A') this.#idTag = '';
    if (status.interruption?.kind !== 'cpDisconnect') this.#frozenState = null;
    const meter = status.meter;
    const meterLost = status.faults.some((f) => f.kind === 'meterLost');
    const live = meter !== null && !meterLost;
    const currents = live ? meter.currentsA.map(deci) : [0, 0, 0];
    const { identity } = this.#options;
    return {
      vendorId: identity.vendorId,
      productId: identity.productId,
      firmwareVersion: packedVersion(identity.firmwareVersion),
      mapVersion: 0x0100,
      serialNumber: identity.serialNumber,
      productName: identity.productName,
      unitId: this.#unitId,
      phaseCurrentsValid: this.#options.meterAttached ? 1 : 0,
      // Energy managers take 0 Wh for "not ready yet" (evcc retries, then fails): never 0 once read.
      energyWh: meter === null ? 0 : Math.max(1, Math.round(meter.energyWh)),
      powerW: live ? Math.round(meter.powerW) : -1,
      currentL1: currents[0] ?? 0,
      currentL2: currents[1] ?? 0,
      currentL3: currents[2] ?? 0,
      installationLimit: deci(this.#options.installationLimitA),
      bootLimit: this.#bootLimitDeciA,
      cpDisconnect: 0,
      phaseSelection: this.#charging.phaseSelection() === 1 ? 1 : 0,
      evseState: this.#frozenState ?? evseStateCode(status),
      currentLimit: this.#limitDeciA,
      chargingEnable: this.#enable,
      offeredCurrent: deci(status.offeredA),
      idTag: this.#idTag,
      meterAttached: this.#options.meterAttached ? 1 : 0,
      features: this.#charging.phaseSwitchingEnabled ? 0x0100 : 0,
    };
  }

  async write(writes: readonly RegisterWrite[]): Promise<ExceptionCode | null> {
    if (writes.some((w) => w.name === 'phaseSelection') && !this.#charging.phaseSwitchingEnabled) return Exception.IllegalDataValue;
    for (const { name, raw } of writes) {
      switch (name) {
        case 'currentLimit':
          this.#limitDeciA = raw;
          break;
        case 'chargingEnable':
          this.#enable = raw;
          break;
        case 'cpDisconnect': {
          const status = this.#charging.status();
          if (status.interruption?.kind !== 'cpDisconnect') this.#frozenState = evseStateCode(status);
          this.#charging.requestCpDisconnect(raw);
          break;
        }
        case 'phaseSelection':
          this.#charging.requestPhases(raw === 1 ? 1 : 3);
          break;
        case 'unitId':
          await this.#options.persistence.saveUnitId(raw);
          this.#unitId = raw;
          this.#log.info('unit id changed', { unitId: raw });
          break;
        case 'bootLimit':
          await this.#options.persistence.saveBootLimit(raw / 10);
          this.#bootLimitDeciA = raw;
          break;
        default:
          return Exception.IllegalDataAddress;
      }
    }
    this.#pushLimits();
    return null;
  }

  /**
   * An energy-manager command from another interface (MQTT, CONTRACT §8): the same write as the
   * register's, with the same range check and rules, so the register reads back what was written;
   * once accepted it resets the watchdog like a request from the master.
   */
  async command(name: EnergyManagerCommand, raw: number): Promise<ExceptionCode | null> {
    const address = REGISTERS.find((def) => def.name === name)?.address ?? 0;
    const writes = decodeWrite(address, [raw]);
    if (typeof writes === 'number') return writes;
    const refused = await this.write(writes);
    if (refused === null) this.requestSeen();
    return refused;
  }

  close(): void {
    if (this.#watchdogTimer !== null) this.#clock.clearTimeout(this.#watchdogTimer);
    this.#watchdogTimer = null;
  }

  /** CONTRACT §3: while the watchdog has fired the limit is min(failsafe, last 8093); 8094 keeps its value. */
  #pushLimits(): void {
    const writtenA = this.#limitDeciA / 10;
    const limitA = this.#watchdogFired ? Math.min(this.#options.failsafeCurrentA, writtenA) : writtenA;
    this.#charging.setModbusLimit(limitA, this.#enable === 1);
  }

  #armWatchdog(inMs: number): void {
    if (this.#options.timeoutS <= 0) return;
    this.#watchdogTimer = this.#clock.setTimeout(() => {
      this.#watchdogTimer = null;
      const leftMs = this.#lastRequestMs + this.#options.timeoutS * 1000 - this.#clock.now();
      if (leftMs > 0) return this.#armWatchdog(leftMs);
      this.#watchdogFired = true;
      this.#log.warn('Modbus watchdog fired: no request from the master', {
        timeoutS: this.#options.timeoutS,
        failsafeCurrentA: this.#options.failsafeCurrentA,
      });
      this.#pushLimits();
    }, inMs);
  }
}

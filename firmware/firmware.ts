import { join } from 'node:path';
import type { Clock } from '../hal/clock.js';
import type { Hal } from '../hal/hal.js';
import type { RfidReader } from '../hal/rfid-reader.js';
import type { Rs485Port } from '../hal/rs485-port.js';
import { ChargingController, type ChargingStatus } from './charging/controller.js';
import { signingMeterOf, type ChargingPort } from './charging/port.js';
import type { SigningMeter } from '../hal/meter.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { ConfigOverlay } from './config-overlay.js';
import { ModbusModel } from './modbus/model.js';
import { ChargePoint } from './ocpp/charge-point.js';
import { AuthorizationStore } from './ocpp/model/authorization.js';
import { OcppConfiguration } from './ocpp/model/configuration.js';
import { ProfileStore } from './ocpp/model/profile-store.js';
import { TxQueue } from './ocpp/model/tx-queue.js';
import { CertificateStore } from './ocpp/model/certificate-store.js';
import { LinkSecurity } from './ocpp/link-security.js';
import type { EndedTransaction, RecoveryReason } from './ocpp/transactions.js';
import { ModbusSlave } from './modbus/slave.js';
import type { FaultLog } from './safety/fault-log.js';
import { GridActivationLog } from './grid/activation-log.js';
import { OCPP_ERROR_INFO } from './safety/faults.js';
import type { StorageProblem } from './ocpp/model/connector-status.js';
import { removeTornWrites } from './store/atomic-file.js';
import { keepTrying } from './config-check.js';
import { readBootId, readRunState, writeRunState } from './store/run-state.js';
import { FIRMWARE_VERSION } from './version.js';
import type { LogFile } from './diagnostics/log-file.js';
import { DiagnosticsUploader } from './diagnostics/uploader.js';
import type { HealthReport } from './update/health.js';
import { InstallDir } from './update/install-dir.js';
import { FirmwareUpdater } from './update/updater.js';
import { statusView } from './http/status-view.js';
import type { MqttApi } from './mqtt/client.js';

type Endpoint = { readonly host: string; readonly port: number };

/** Where to listen: the configured endpoint, then the config file's when the run-time overlay changed it. */
export function endpoints(configured: Endpoint, file: Endpoint | null): Endpoint[] {
  return file === null || (file.host === configured.host && file.port === configured.port) ? [configured] : [configured, file];
}

/** Who the box says it is on Modbus (8000..8031). */
const PRODUCT = {
  vendorId: 0x534e,
  vendorName: 'SmartWallbox',
  productId: 0x0001,
  productName: 'Smart Wallbox Controller',
  model: 'SW-Controller-1',
} as const;

/** The charging core in this thread, on the board's HAL (tests, the fleet simulator): the firmware owns and runs it. */
export interface InProcessCore {
  readonly hal: Hal;
  /** Where faults are kept (dataDir on a real box); in memory when not given. */
  readonly faultLog?: FaultLog;
  /** Control loop period, ms (tests and benchmarks may change it). */
  readonly tickMs?: number;
}

/** The charging core of the control thread, reached over its port (the protocol worker, README "Process structure"). */
export interface RemoteCore {
  readonly core: {
    readonly charging: ChargingPort;
    /** The board's RFID reader, whose cards the control thread passes on. */
    readonly rfid: RfidReader;
    /** The RS-485 port of the Modbus RTU slave, opened in this thread; null without `modbus.rtu`. */
    readonly rs485: Rs485Port | null;
    /** The board's meter signs readings (CONTRACT §9): OCPP reaches it through `charging`. */
    readonly meterSigns: boolean;
  };
}

export type FirmwareOptions = CommonOptions & (InProcessCore | RemoteCore);

interface CommonOptions {
  readonly config: Config;
  /** The config file's own values (before the run-time overlay): what an interface falls back to when the overlay's cannot be used. */
  readonly fileConfig?: Config;
  readonly clock: Clock;
  readonly log: Logger;
  /** Where run-time values (Modbus 8040, 8081) are kept; not kept when not given. */
  readonly overlay?: ConfigOverlay;
  /** The board's serial number (Modbus 8008). */
  readonly serialNumber?: string;
  /** The kernel boot id (`readBootId()` when not given): tells a process restart from a power loss. */
  readonly bootId?: string;
  /** The install folder and the update key when the firmware runs from an installed image (launcher.ts); else updates are not installed. */
  readonly install?: { readonly dir: string; readonly publicKeyPem: string | null };
  /** The firmware's own log copy in dataDir (GetDiagnostics); none: diagnostics carry no log lines. */
  readonly logFile?: LogFile;
  /** Whether the OS reports the host clock synchronised (NTP); not given: never (the central system's time is used). */
  readonly clockSynced?: () => boolean;
  /** Ends the process cleanly so that the launcher starts the version just switched to. */
  readonly restart?: () => void;
}

/**
 * The firmware core composed from HAL objects (or the port of a charging core running elsewhere),
 * a clock and a logger. It imports no board and no driver; `main.ts`, the protocol worker, a test
 * or the fleet simulator hands them in.
 */
export class Firmware {
  readonly charging: ChargingPort;
  readonly modbus: ModbusModel;
  readonly modbusSlave: ModbusSlave;
  readonly updates: FirmwareUpdater;
  readonly diagnostics: DiagnosticsUploader;
  /** The grid operator limit's activations (§14a EnWG), kept in dataDir. */
  readonly gridLog: GridActivationLog;
  /** The OCPP client; null without `ocpp` in the config (created by start()). */
  chargePoint: ChargePoint | null = null;
  /** The MQTT interface; null without `mqtt` in the config (created by start()). */
  mqtt: MqttApi | null = null;
  readonly #options: FirmwareOptions;
  #config: Config;
  readonly #clock: Clock;
  readonly #log: Logger;
  /** The controller when it runs in this thread (started and stopped with the firmware). */
  readonly #controller: ChargingController | null;
  readonly #rfid: RfidReader;
  readonly #rs485: Rs485Port | null;
  readonly #signingMeter: SigningMeter | null;
  #bootId = '';
  #ocppChange: Promise<void> = Promise.resolve();
  #mqttChange: Promise<void> = Promise.resolve();
  readonly #endedListeners = new Set<(ended: EndedTransaction) => void>();
  #started = false;
  readonly #interfaceRetries: Array<ReturnType<typeof keepTrying>> = [];

  constructor(options: FirmwareOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#clock = options.clock;
    this.#log = options.log;
    const { evse } = options.config;
    if ('core' in options) {
      this.#controller = null;
      this.charging = options.core.charging;
      this.charging.setOcppConfigured(options.config.ocpp !== null);
      this.#rfid = options.core.rfid;
      this.#signingMeter = options.core.meterSigns ? signingMeterOf(this.charging) : null;
    } else {
      this.#controller = new ChargingController({
        hal: options.hal,
        clock: options.clock,
        log: options.log,
        evse,
        modbusLimitA: 0, // the Modbus model sets 8093's boot value at once
        ocppConfigured: options.config.ocpp !== null,
        grid: options.config.grid && { ...options.config.grid, voltageV: evse.voltageV },
        ...(options.tickMs !== undefined && { tickMs: options.tickMs }),
        ...(options.faultLog !== undefined && { faultLog: options.faultLog }),
      });
      this.charging = this.#controller;
      this.#rfid = options.hal.rfid;
      this.#signingMeter = options.hal.meter.signing ?? null;
    }
    this.gridLog = new GridActivationLog(options.config.dataDir, options.log.child({ module: 'grid' }));
    this.modbus = this.#createModbus(options);
    const rs485 = 'core' in options ? options.core.rs485 : options.hal.rs485;
    this.#rs485 = rs485;
    this.modbusSlave = new ModbusSlave({
      model: this.modbus,
      log: options.log,
      clock: options.clock,
      tcp: options.config.modbus.tcp,
      rs485,
    });
    const { dataDir } = options.config;
    this.updates = new FirmwareUpdater({
      installDir: options.install ? new InstallDir(options.install.dir, options.log) : null,
      workDir: join(dataDir, 'update'),
      publicKeyPem: options.install?.publicKeyPem ?? null,
      runningVersion: FIRMWARE_VERSION,
      clock: options.clock,
      log: options.log,
      idle: () => this.charging.status().cp === 'A' && (this.chargePoint?.transactions.transaction ?? null) === null,
      restart: options.restart ?? (() => this.#log.error('no launcher to restart into the new version')),
    });
    this.diagnostics = new DiagnosticsUploader({
      logFile: options.logFile ?? null,
      dataDir,
      identity: options.config.ocpp?.chargeBoxId ?? options.serialNumber ?? 'wallbox',
      firmwareVersion: FIRMWARE_VERSION,
      clock: options.clock,
      log: options.log,
    });
  }

  /** What the launcher judges a new version by (health.ts). */
  health(): HealthReport {
    const lastPassMs = this.charging.lastPassMs;
    const cp = this.chargePoint;
    return {
      type: 'health',
      version: FIRMWARE_VERSION,
      controlLoop: lastPassMs !== null && this.#clock.now() - lastPassMs < 1000,
      modbus: this.#started,
      ocpp: cp === null ? 'off' : cp.online ? 'online' : 'offline',
    };
  }

  async #createChargePoint(recoveryReason: RecoveryReason): Promise<ChargePoint | null> {
    const { ocpp, dataDir, evse } = this.#config;
    if (ocpp === null) {
      await ProfileStore.remove(dataDir);
      return null;
    }
    const { clock, log } = this.#options;
    const persistent = dataDir;
    const facts = { ConnectorSwitch3to1PhaseSupported: String(this.charging.phaseSwitchingEnabled) };
    const certificates = await CertificateStore.load(persistent, log);
    const link = await LinkSecurity.load({
      settings: ocpp,
      certificates,
      dataDir: persistent,
      saveAuthorizationKey: async (key) => void (await this.#options.overlay?.set('ocpp.password', key)),
      log,
    });
    if (link.insecureTls) log.warn('OCPP TLS: the central system certificate is not verified (ocpp.insecureTls)', { url: ocpp.url });
    return new ChargePoint({
      settings: ocpp,
      identity: {
        vendor: PRODUCT.vendorName,
        model: PRODUCT.model,
        serialNumber: this.#options.serialNumber ?? '',
        firmwareVersion: FIRMWARE_VERSION,
      },
      charging: this.charging,
      rfid: this.#rfid,
      configuration: await OcppConfiguration.load(persistent, log, facts),
      authorization: await AuthorizationStore.load(persistent, log),
      profiles: await ProfileStore.load(persistent, log),
      queue: await TxQueue.load(persistent, log),
      certificates,
      link,
      recoveryReason,
      evse: { voltageV: evse.voltageV, maxCurrentA: evse.maxCurrentA },
      clock,
      log,
      dataDir: persistent,
      ...(this.#options.clockSynced !== undefined && { hostClockSynced: this.#options.clockSynced }),
      onIdTag: (idTag) => this.modbus.setIdTag(idTag),
      onTransactionEnded: (ended) => {
        for (const listener of this.#endedListeners) listener(ended);
      },
      firmwareUpdates: this.updates,
      diagnostics: this.diagnostics,
      signingMeter: this.#signingMeter,
    });
  }

  /** The MQTT interface for `mqtt` (not connected yet); its certificate files are read now (ConfigError naming the key). */
  async #createMqtt(mqtt: Config['mqtt']): Promise<MqttApi | null> {
    if (mqtt === null) return null;
    // MQTT.js and its streams are loaded only by a box that has a broker (issue #21).
    const { MqttApi } = await import('./mqtt/client.js');
    const { evse } = this.#config;
    return MqttApi.create({
      settings: mqtt,
      device: {
        serialNumber: this.#options.serialNumber ?? '',
        name: PRODUCT.productName,
        manufacturer: PRODUCT.vendorName,
        model: PRODUCT.model,
        firmwareVersion: FIRMWARE_VERSION,
      },
      energyManager: this.modbus,
      phaseSwitchingEnabled: this.charging.phaseSwitchingEnabled,
      maxCurrentA: evse.maxCurrentA,
      // The same status the HTTP API shows; the owner's pause is in its pausedBy.
      status: () => statusView(this, false, this.#clock.now()),
      onChange: (listener) => this.charging.onChange(() => listener()),
      clock: this.#clock,
      log: this.#log,
    });
  }

  #createModbus(options: FirmwareOptions): ModbusModel {
    const { modbus, evse } = options.config;
    const overlay = options.overlay;
    return new ModbusModel({
      charging: this.charging,
      clock: options.clock,
      log: options.log,
      identity: {
        vendorId: PRODUCT.vendorId,
        productId: PRODUCT.productId,
        productName: PRODUCT.productName,
        firmwareVersion: FIRMWARE_VERSION,
        serialNumber: options.serialNumber ?? '',
      },
      persistence: {
        saveUnitId: async (unitId) => void (await overlay?.set('modbus.unitId', unitId)),
        saveBootLimit: async (limitA) => void (await overlay?.set('modbus.bootCurrentA', limitA)),
      },
      unitId: modbus.unitId,
      installationLimitA: evse.maxCurrentA,
      bootLimitA: modbus.bootCurrentA ?? evse.maxCurrentA,
      meterAttached: true,
      timeoutS: modbus.timeoutS,
      failsafeCurrentA: modbus.failsafeCurrentA,
    });
  }

  /**
   * State files read back damaged, or not writable, and the safe side taken for each (README:
   * Damaged files): the status API and the web page show them.
   */
  storageProblems(): StorageProblem[] {
    const problems: StorageProblem[] = [];
    const storageFault = this.charging.status().faults.find((f) => f.kind === 'storage');
    if (storageFault)
      problems.push({
        file: 'faults.json',
        problem: storageFault.cause,
        safeSide: 'latched (storage fault) until an installer clears it',
        info: OCPP_ERROR_INFO.storage ?? '',
      });
    const overlayDamaged = this.#options.overlay?.damaged ?? null;
    if (overlayDamaged !== null)
      problems.push({
        file: 'config-overlay.json',
        problem: overlayDamaged,
        safeSide: 'the config file applies',
        info: 'run-time config unreadable',
      });
    return [...problems, ...(this.chargePoint?.storageProblems() ?? [])];
  }

  /** What the box shows people: the charging status and the fault history. */
  status(): ChargingStatus & { readonly faultHistory: ReturnType<ChargingPort['faultHistory']> } {
    return { ...this.charging.status(), faultHistory: this.charging.faultHistory() };
  }

  /** Calls `listener` when an OCPP transaction ends (also one closed at boot). */
  onTransactionEnded(listener: (ended: EndedTransaction) => void): void {
    this.#endedListeners.add(listener);
  }

  /**
   * New OCPP settings at run time (the web interface): the charge point stops cleanly (a running
   * transaction ends with Reboot, its StopTransaction stays in the journal in dataDir) and a new
   * one starts with `ocpp`, reading the same journal, so nothing queued is lost and a car still
   * plugged in starts a new transaction. Changes are applied one after the other.
   */
  applyOcpp(ocpp: Config['ocpp']): Promise<void> {
    const change = this.#ocppChange.then(async () => {
      await this.chargePoint?.stop();
      this.chargePoint = null;
      this.#config = { ...this.#config, ocpp };
      this.charging.setOcppConfigured(ocpp !== null);
      this.chargePoint = await this.#createChargePoint('Reboot');
      await this.chargePoint?.start();
      this.#log.info('OCPP settings applied', { url: ocpp?.url ?? null });
    });
    this.#ocppChange = change.catch(() => {});
    return change;
  }

  /**
   * New MQTT settings at run time (the web interface): the old connection says `offline` and
   * closes, a new one connects with `mqtt` (and publishes or removes the discovery messages as
   * `mqtt.homeAssistant` says). Changes are applied one after the other.
   */
  applyMqtt(mqtt: Config['mqtt']): Promise<void> {
    const change = this.#mqttChange.then(async () => {
      const next = await this.#createMqtt(mqtt);
      await this.mqtt?.stop();
      this.#config = { ...this.#config, mqtt };
      this.mqtt = next;
      this.mqtt?.start();
      this.#log.info('MQTT settings applied', { topicPrefix: this.mqtt?.topics.prefix ?? null });
    });
    this.#mqttChange = change.catch(() => {});
    return change;
  }

  async start(): Promise<void> {
    const { dataDir } = this.#config;
    // Read first: an unreadable certificate file is a bad config (exit 2), found before anything runs.
    const mqtt = await this.#createMqtt(this.#config.mqtt);
    this.#bootId = this.#options.bootId ?? (await readBootId());
    const torn = await removeTornWrites(dataDir);
    if (torn > 0) this.#log.warn('writes cut short by the last stop removed; their files kept the last good version', { torn });
    const previous = await readRunState(dataDir, this.#log);
    // A transaction still open in the journal was cut: by a process restart under the same
    // kernel boot (Reboot), or by the machine going down (PowerLoss).
    const recoveryReason: RecoveryReason = previous?.bootId === this.#bootId ? 'Reboot' : 'PowerLoss';
    if (previous !== null && !previous.cleanStop)
      this.#log.warn('the last run did not stop cleanly', { cause: recoveryReason === 'Reboot' ? 'process restart' : 'machine restart' });
    await writeRunState(
      dataDir,
      { bootId: this.#bootId, cleanStop: false, startedAt: new Date(this.#clock.now()).toISOString() },
      this.#log,
    );
    await this.gridLog.load(this.#clock.now());
    this.charging.onChange((status) => this.gridLog.observe(status.grid, this.#clock.now()));
    this.#controller?.start();
    // An interface that does not come up (a port in use, a device missing) is logged and retried;
    // it stops neither the charging core nor the other interfaces.
    const { clock, log, fileConfig } = this.#options;
    const tcp = this.#config.modbus.tcp;
    if (tcp !== null) {
      const attempts = endpoints(tcp, fileConfig?.modbus.tcp ?? null).map((endpoint) => () => this.modbusSlave.listenTcp(endpoint));
      this.#interfaceRetries.push(keepTrying('Modbus TCP', attempts, clock, log));
    }
    if (this.#rs485 !== null) {
      // An overlay device that does not open falls back to the config file's, as the addresses do.
      const file = fileConfig?.modbus.rtu ?? null;
      const attempts = [() => this.modbusSlave.openRtu()];
      if (file !== null && JSON.stringify(file) !== JSON.stringify(this.#rs485.settings))
        attempts.push(() => this.modbusSlave.openRtu(file));
      this.#interfaceRetries.push(keepTrying('Modbus RTU', attempts, clock, log));
    }
    await Promise.all(this.#interfaceRetries.map((retries) => retries.firstRound));
    this.#started = true;
    this.chargePoint = await this.#createChargePoint(recoveryReason);
    await this.chargePoint?.start();
    this.mqtt = mqtt;
    this.mqtt?.start();
    this.#log.info('firmware running', { version: FIRMWARE_VERSION, evse: this.#config.evse });
    const latched = this.charging.status().faults;
    if (latched.length > 0) this.#log.warn('latched faults in force', { faults: latched.map((f) => f.kind) });
  }

  /** CONTRACT §1 clean stop: PWM off, contactor open, state saved with a clean-stop marker. */
  async stop(): Promise<void> {
    await this.#ocppChange;
    await this.#mqttChange;
    await this.mqtt?.stop();
    this.updates.stop();
    await this.chargePoint?.stop();
    for (const retries of this.#interfaceRetries) retries.stop();
    await this.modbusSlave.stop();
    // A remote controller is stopped by its own thread, after this side (main.ts).
    await this.#controller?.stop();
    await this.gridLog.stop(this.#clock.now());
    const meter = this.charging.status().meter;
    await writeRunState(
      this.#config.dataDir,
      { bootId: this.#bootId, cleanStop: true, stoppedAt: new Date(this.#clock.now()).toISOString(), energyWh: meter?.energyWh ?? null },
      this.#log,
    );
    this.#log.info('firmware stopped');
  }
}

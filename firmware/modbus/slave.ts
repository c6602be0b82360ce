import type { Clock } from '../../hal/clock.js';
import type { Rs485Port, Rs485Settings } from '../../hal/rs485-port.js';
import type { Logger } from '../log.js';
import type { ModbusModel } from './model.js';
import { handlePdu } from './pdu.js';
import { ModbusRtuServer } from './rtu-server.js';
import { ModbusTcpServer } from './tcp-server.js';

export interface ModbusSlaveOptions {
  readonly model: ModbusModel;
  readonly log: Logger;
  /** The connection timers (idle, partial frame) and the RTU line timing run on it. */
  readonly clock: Clock;
  /** Where Modbus TCP listens; null = no TCP. */
  readonly tcp: { readonly host: string; readonly port: number } | null;
  /** The RS-485 port for RTU; null = no RTU. */
  readonly rs485: Rs485Port | null;
}

const FC_WRITE_SINGLE = 0x06;
const FC_WRITE_MULTIPLE = 0x10;

/**
 * The Modbus slave on TCP and RTU at the same time, over one register model (CONTRACT §3). On TCP
 * it answers unit ids 8040, 0 and 255; on RTU only 8040, and broadcast writes (unit 0) are
 * carried out without a reply. Every request answered without an exception resets the watchdog.
 */
export class ModbusSlave {
  readonly #model: ModbusModel;
  readonly #log: Logger;
  readonly #tcp: ModbusTcpServer | null;
  readonly #tcpAddress: ModbusSlaveOptions['tcp'];
  readonly #rtu: ModbusRtuServer | null;
  #tcpPort: number | null = null;

  constructor(options: ModbusSlaveOptions) {
    this.#model = options.model;
    this.#log = options.log.child({ module: 'modbus' });
    this.#tcpAddress = options.tcp;
    const { clock } = options;
    this.#tcp = options.tcp ? new ModbusTcpServer({ handler: (unitId, pdu) => this.#handleTcp(unitId, pdu), log: this.#log, clock }) : null;
    this.#rtu = options.rs485
      ? new ModbusRtuServer({ port: options.rs485, handler: (unitId, pdu) => this.#handleRtu(unitId, pdu), log: this.#log, clock })
      : null;
  }

  /** The port Modbus TCP listens on (useful when the config asked for port 0). */
  get tcpPort(): number | null {
    return this.#tcpPort;
  }

  async start(): Promise<void> {
    if (this.#tcpAddress) await this.listenTcp(this.#tcpAddress);
    await this.openRtu();
  }

  /** Modbus TCP on `endpoint` (the configured one, or the config file's when that fails); no-op without TCP. */
  async listenTcp(endpoint: { readonly host: string; readonly port: number }): Promise<void> {
    if (this.#tcp) this.#tcpPort = await this.#tcp.listen(endpoint.host, endpoint.port);
  }

  /** Modbus RTU on the RS-485 port (on `settings` instead: the config file's device); no-op without one. */
  async openRtu(settings?: Rs485Settings): Promise<void> {
    await this.#rtu?.open(settings);
  }

  async stop(): Promise<void> {
    await this.#tcp?.close();
    await this.#rtu?.close();
    this.#model.close();
  }

  async #handleTcp(unitId: number, pdu: Buffer): Promise<Buffer | null> {
    if (unitId !== this.#model.unitId && unitId !== 0 && unitId !== 255) return null;
    return this.#answer(pdu);
  }

  async #handleRtu(unitId: number, pdu: Buffer): Promise<Buffer | null> {
    if (unitId === 0) {
      const fc = pdu[0];
      if (fc === FC_WRITE_SINGLE || fc === FC_WRITE_MULTIPLE) await this.#answer(pdu);
      return null;
    }
    return unitId === this.#model.unitId ? this.#answer(pdu) : null;
  }

  async #answer(pdu: Buffer): Promise<Buffer> {
    const result = await handlePdu(pdu, this.#model);
    if (result.ok) this.#model.requestSeen();
    return result.response;
  }
}

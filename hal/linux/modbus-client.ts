import ModbusSerial from 'modbus-serial';
import type { ModbusRTU } from 'modbus-serial/ModbusRTU.js';
import type { Rs485Settings } from '../rs485-port.js';

/**
 * The `modbus-serial` client class. modbus-serial is CommonJS: its module object is the client
 * class, while its type declarations describe an ES default export. This gives the class its
 * declared type, for the meter driver and for the tests' masters alike.
 */
export const ModbusClient = ModbusSerial as unknown as typeof ModbusRTU;
export type ModbusClient = ModbusRTU;

/** A Modbus RTU master on the tty of `settings`, talking to slave `unitId`, each request bounded by `timeoutMs`. */
export async function openRtuMaster(
  settings: Rs485Settings,
  unitId: number,
  timeoutMs: number,
): Promise<{ client: ModbusClient; close(): Promise<void> }> {
  const client = new ModbusClient();
  const { path, ...serial } = settings;
  await client.connectRTUBuffered(path, serial);
  client.setID(unitId);
  client.setTimeout(timeoutMs);
  return { client, close: () => new Promise<void>((resolve) => client.close(() => resolve())) };
}

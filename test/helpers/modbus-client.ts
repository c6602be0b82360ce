import type { ModbusRTU } from 'modbus-serial/ModbusRTU.js';
import { ModbusClient } from '../../hal/linux/modbus-client.js';

export { ModbusClient };

/** A modbus-serial client on Modbus TCP at 127.0.0.1:`port`, talking to `unit`. */
export async function tcpClient(port: number, unit = 1): Promise<ModbusRTU> {
  const client = new ModbusClient();
  await client.connectTCP('127.0.0.1', { port });
  client.setID(unit);
  client.setTimeout(1000);
  return client;
}

/** The Modbus exception code `request` failed with (throws if it succeeded or failed otherwise). */
export async function exceptionOf(request: Promise<unknown>): Promise<number> {
  try {
    await request;
  } catch (err) {
    const code = (err as { modbusCode?: number }).modbusCode;
    if (typeof code === 'number') return code;
    throw err;
  }
  throw new Error('expected a Modbus exception, the request succeeded');
}

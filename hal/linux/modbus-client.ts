import ModbusSerial from 'modbus-serial';
import type { ModbusRTU } from 'modbus-serial/ModbusRTU.js';

/**
 * The `modbus-serial` client class. modbus-serial is CommonJS: its module object is the client
 * class, while its type declarations describe an ES default export. This gives the class its
 * declared type, for the meter driver and for the tests' masters alike.
 */
export const ModbusClient = ModbusSerial as unknown as typeof ModbusRTU;
export type ModbusClient = ModbusRTU;

import ModbusSerial from 'modbus-serial';

/** A DIN-rail meter on the far end of a serial line: modbus-serial's own RTU server with SDM630-style float input registers. */

const { ServerSerial } = ModbusSerial as unknown as {
  ServerSerial: new (vector: object, options: object) => { close(cb: () => void): void };
};

/** The meter's input registers: address → 16-bit word, from float values at their addresses. */
export function meterRegisters(floats: Record<number, number>): Map<number, number> {
  const words = new Map<number, number>();
  for (const [address, value] of Object.entries(floats)) {
    const bytes = Buffer.alloc(4);
    bytes.writeFloatBE(value);
    words.set(Number(address), bytes.readUInt16BE(0));
    words.set(Number(address) + 1, bytes.readUInt16BE(2));
  }
  return words;
}

export function meterEmulator(path: string, words: Map<number, number>, unitId = 7) {
  return new Promise<{ close(): Promise<void> }>((resolve, reject) => {
    const server = new ServerSerial(
      { getInputRegister: (address: number) => words.get(address) ?? 0 },
      {
        path,
        baudRate: 9600,
        unitID: unitId,
        openCallback: (err: Error | null) =>
          err ? reject(err) : resolve({ close: () => new Promise((done) => server.close(() => done())) }),
      },
    );
  });
}

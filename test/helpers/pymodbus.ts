import { createInterface } from 'node:readline';
import { spawnReaped } from './child-reaping.js';

const SCRIPT = new URL('../fixtures/pymodbus_master.py', import.meta.url).pathname;
/** Debian's python3-pymodbus is installed for the system Python only. */
const PYTHON = '/usr/bin/python3';

export type PyRequest =
  | { op: 'read' | 'read_input'; address: number; count: number; unit?: number }
  | { op: 'write'; address: number; value: number; unit?: number }
  | { op: 'write_many'; address: number; values: number[]; unit?: number };

export interface PyAnswer {
  registers?: number[];
  ok?: boolean;
  exception?: number;
  error?: string;
}

export interface PyMaster {
  request(req: PyRequest): Promise<PyAnswer>;
  /** Reads and returns the registers, failing on anything else. */
  read(address: number, count: number, unit?: number): Promise<number[]>;
  /** Ends the master process; resolves once it is gone (the serial device is free again). */
  close(): Promise<void>;
}

/** Starts the pymodbus master as a separate process on TCP or an RTU serial device. */
export async function pymodbusMaster(args: ['tcp', string, number] | ['rtu', string, number]): Promise<PyMaster> {
  const child = spawnReaped(PYTHON, [SCRIPT, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<PyAnswer> => {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`pymodbus master silent; stderr: ${stderr}`)), 10_000).unref(),
    );
    const line = await Promise.race([lines.next(), timeout]);
    if (line.done) throw new Error(`pymodbus master exited; stderr: ${stderr}`);
    return JSON.parse(line.value) as PyAnswer;
  };
  const ready = await next();
  if (!('ready' in ready)) throw new Error(`pymodbus master: ${JSON.stringify(ready)}`);
  let queue: Promise<unknown> = Promise.resolve();
  const request = (req: PyRequest): Promise<PyAnswer> => {
    const answer = queue.then(() => {
      child.stdin!.write(JSON.stringify(req) + '\n');
      return next();
    });
    queue = answer.catch(() => {});
    return answer;
  };
  return {
    request,
    async read(address, count, unit = 1) {
      const answer = await request({ op: 'read', address, count, unit });
      if (!answer.registers) throw new Error(`read ${address}×${count}: ${JSON.stringify(answer)}`);
      return answer.registers;
    },
    // Never throws: a teardown that threw here left the firmware it should stop next running (a CI run then hung for 120 s).
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

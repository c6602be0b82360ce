import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../firmware/config.js';
import { silentLogger } from '../firmware/log.js';
import { FaultLog } from '../firmware/safety/fault-log.js';

/**
 * The installer's fault tool, run while the firmware is stopped:
 *   faults [--config FILE] list    the latched faults and the history, one JSON object per line
 *   faults [--config FILE] clear   ends the installer latches (a welded contactor, a failed RCD test)
 */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { config: { type: 'string' } }, allowPositionals: true });
  const command = positionals[0];
  if (positionals.length !== 1 || (command !== 'list' && command !== 'clear')) {
    process.stderr.write('usage: faults [--config FILE] list|clear\n');
    return 2;
  }
  const config = await loadConfigFile(values.config);
  const faultLog = await FaultLog.load(config.dataDir, silentLogger);
  if (command === 'clear') {
    const cleared = faultLog.latched.map((f) => f.kind);
    faultLog.clearLatched(Date.now());
    await faultLog.flush();
    process.stdout.write(JSON.stringify({ cleared }) + '\n');
    return 0;
  }
  for (const fault of faultLog.latched) process.stdout.write(JSON.stringify({ latched: true, ...fault }) + '\n');
  for (const entry of faultLog.history) process.stdout.write(JSON.stringify({ history: true, ...entry }) + '\n');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`faults: ${err instanceof ConfigError ? `config: ${err.message}` : (err as Error).message}\n`);
    process.exit(err instanceof ConfigError || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1);
  },
);

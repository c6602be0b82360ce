import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../firmware/config.js';
import { GridActivationLog } from '../firmware/grid/activation-log.js';
import { silentLogger } from '../firmware/log.js';

/**
 * The installer's export of the grid operator limit's activations (§14a EnWG), for the grid
 * operator's records: one JSON object per line, oldest first, from dataDir. The running firmware
 * serves the same lines at GET /api/grid/activations.
 *   grid-log [--config FILE]
 */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { config: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 0) {
    process.stderr.write('usage: grid-log [--config FILE]\n');
    return 2;
  }
  const config = await loadConfigFile(values.config);
  const log = new GridActivationLog(config.dataDir, silentLogger);
  await log.load(Date.now(), { readOnly: true });
  process.stdout.write(log.jsonLines());
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`grid-log: ${err instanceof ConfigError ? `config: ${err.message}` : (err as Error).message}\n`);
    process.exit(err instanceof ConfigError || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1);
  },
);

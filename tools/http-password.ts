import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../firmware/config.js';
import { PasswordFile, passwordProblem } from '../firmware/http/password.js';

/**
 * The installer's tool for the web password: reads it from standard input (never the command
 * line, which other users and the shell history see) and writes the salted scrypt hash to
 * `dataDir/http-password.json` (mode 0600). Works while the firmware runs: it reads the file at
 * every login.
 *   http-password [--config FILE]              asks for it on a terminal, or reads one line from a pipe
 */
async function readPassword(): Promise<string> {
  // On a terminal the typed characters are not echoed: the input goes to a readline with no output.
  const rl = createInterface({ input: process.stdin, terminal: process.stdin.isTTY === true });
  rl.on('SIGINT', () => process.exit(130));
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (prompt: string): Promise<string> => {
    if (process.stdin.isTTY) process.stderr.write(prompt);
    const next = await lines.next();
    if (process.stdin.isTTY) process.stderr.write('\n');
    return next.done === true ? '' : String(next.value);
  };
  try {
    const password = await ask('new web password: ');
    if (process.stdin.isTTY && (await ask('again: ')) !== password) throw new Error('the two entries differ');
    return password;
  } finally {
    rl.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' } }, allowPositionals: false });
  const config = await loadConfigFile(values.config);
  const password = await readPassword();
  const problem = passwordProblem(password);
  if (problem !== null) {
    process.stderr.write(`http-password: the password ${problem}\n`);
    return 2;
  }
  const file = new PasswordFile(config.dataDir);
  await file.set(password);
  process.stdout.write(JSON.stringify({ written: file.path }) + '\n');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`http-password: ${err instanceof ConfigError ? `config: ${err.message}` : (err as Error).message}\n`);
    process.exit(err instanceof ConfigError || (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1);
  },
);

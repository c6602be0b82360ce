import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

/** The five ways a state file in dataDir is found damaged between two runs (a worn flash, a cut write, a person). */
export const DAMAGES: Record<string, (path: string) => void> = {
  truncated: (path) =>
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, Math.max(1, Math.floor(readFileSync(path, 'utf8').length / 2)))),
  garbage: (path) => writeFileSync(path, '\u0000\u0001\u00ff garbage'),
  emptied: (path) => writeFileSync(path, ''),
  wrongType: (path) => writeFileSync(path, '[{"kind":"contactorWelded"}]'),
  directory: (path) => {
    rmSync(path);
    mkdirSync(path);
  },
};

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseStored } from '../../firmware/store/atomic-file.js';

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

/** The JSON a state file holds, its checksum line checked (`firmware/store/checksum.ts`); throws when it cannot be read. */
export function storedJson(path: string): any {
  const parsed = parseStored(readFileSync(path, 'utf8'));
  if (!('value' in parsed)) throw new Error(`${path}: ${parsed.reason}`);
  return parsed.value;
}

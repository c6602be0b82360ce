import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseStored } from '../../firmware/store/atomic-file.js';

/** The ways (five, and a flipped bit) a state file in dataDir is found damaged between two runs (a worn flash, a cut write, a person). */
export const DAMAGES: Record<string, (path: string) => void> = {
  truncated: (path) =>
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, Math.max(1, Math.floor(readFileSync(path, 'utf8').length / 2)))),
  garbage: (path) => writeFileSync(path, '\u0000\u0001\u00ff garbage'),
  emptied: (path) => writeFileSync(path, ''),
  wrongType: (path) => writeFileSync(path, '[{"kind":"contactorWelded"}]'),
  // One bit of a letter inside a string (its case): still JSON of the right shape, caught by the checksum line only.
  bitFlip: (path) => {
    const bytes = readFileSync(path);
    let i = bytes.length - 1;
    while (i > 0 && !(/[a-zA-Z]/.test(String.fromCharCode(bytes[i] as number)) && bytes[i + 1] === 0x22)) i -= 1;
    bytes[i] = (bytes[i] as number) ^ 0x20;
    writeFileSync(path, bytes);
  },
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

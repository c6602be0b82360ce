// Build step (build.mjs): generates the schema checks of the bundles with ajv's standalone code.
// It loads the modules that compile checks at load time (the config, the board file, the port
// between the threads, the web API's routes), which records every schema they compile
// (firmware/schema-check/compile.ts; a module missing here fails the first start of the bundle that
// loads it, naming no check), then writes, into the folder given as argument, one module
// of generated code per preset and `index.mjs`, which build.mjs puts in place of compile.ts.
import { Ajv } from 'ajv';
import standaloneModule from 'ajv/dist/standalone/index.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../board/board-file.js';
import '../board/sim-control-api.js';
import '../firmware/charging/port.js';
import { compiledChecks, PRESET_OPTIONS } from '../firmware/schema-check/compile.js';
import type { CheckPreset } from '../firmware/schema-check/key.js';
import '../firmware/config.js';
import '../firmware/http/server.js';

const [outDir, keyModule] = process.argv.slice(2);
if (outDir === undefined || keyModule === undefined) throw new Error('usage: schema-checks OUT_DIR KEY_MODULE');
mkdirSync(outDir, { recursive: true });
// ajv-formats-free presets only: the OCPP schemas compile on first use (firmware/ocpp/schemas.ts).
const standaloneCode = standaloneModule.default;
const table: string[] = [];
const imports: string[] = [];
for (const preset of Object.keys(PRESET_OPTIONS) as CheckPreset[]) {
  const ajv = new Ajv({ ...PRESET_OPTIONS[preset], code: { source: true, esm: true } });
  const exports: Record<string, string> = {};
  for (const [key, check] of compiledChecks) {
    if (check.preset !== preset) continue;
    const name = `c${table.length}`;
    ajv.addSchema(check.schema, key);
    exports[name] = key;
    table.push(`[${JSON.stringify(key)}, ${preset}.${name}]`);
  }
  writeFileSync(join(outDir, `checks-${preset}.mjs`), standaloneCode(ajv, exports));
  imports.push(`import * as ${preset} from './checks-${preset}.mjs';`);
}
writeFileSync(
  join(outDir, 'index.mjs'),
  [
    `import { schemaKey } from ${JSON.stringify(keyModule)};`,
    ...imports,
    `const CHECKS = new Map([${table.join(', ')}]);`,
    'export function compileCheck(preset, schema) {',
    '  const check = CHECKS.get(schemaKey(preset, schema));',
    '  if (check === undefined) throw new Error(`no build-time check for a ${preset} schema: the build (build.mjs) did not load its module`);',
    '  return check;',
    '}',
    '',
  ].join('\n'),
);
process.stdout.write(`${compiledChecks.size} schema checks generated\n`);

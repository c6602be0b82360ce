// Compiles the TypeScript that the tests load (tests, helpers and every source folder they import)
// to JavaScript in `.test-js/`, the same tree one level down, so that `tap` runs plain `.js`
// files: without it every test process started tsx's loader thread and compiled each module it
// imported on its own, about a second of CPU per test file before its first assertion.
// `import.meta.url` keeps naming the `.ts` file, so paths relative to a test (fixtures, `dist/`,
// the README) still resolve in the source tree. Types are checked by `tsc` in `npm test`, not
// here (esbuild strips them, as tsx did). A single `.ts` test still runs directly:
// `npx tap test/some.test.ts` loads tsx for it (test/tsx-for-ts.mjs).
import { transform } from 'esbuild';
import { mkdir, readdir, readFile, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const OUT = join(ROOT, '.test-js');
/** Every folder a test can import from (tsconfig.json's "include"), and the vendored schemas. */
const FOLDERS = ['firmware', 'hal', 'board', 'tools', 'bench', 'test', 'build', 'vendor'];
/** JSON and ESM files are imported as they are. */
const COPIED = /\.(json|mjs)$/;

const { compilerOptions } = JSON.parse(await readFile(join(ROOT, 'tsconfig.json'), 'utf8'));

async function* files(folder, wanted) {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* files(path, wanted);
    else if (wanted(entry.name)) yield path;
  }
}
const isSource = (name) => (name.endsWith('.ts') && !name.endsWith('.d.ts')) || COPIED.test(name);

/** Writes `target` from `source` unless it is newer than the source already. */
async function compile(source) {
  const target = join(OUT, relative(ROOT, source)).replace(/\.ts$/, '.js');
  const built = await stat(target).catch(() => null);
  if (built !== null && built.mtimeMs >= (await stat(source)).mtimeMs) return target;
  await mkdir(dirname(target), { recursive: true });
  if (!source.endsWith('.ts')) {
    await copyFile(source, target);
    return target;
  }
  const { code } = await transform(await readFile(source, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: `node${process.versions.node}`,
    sourcefile: source,
    sourcemap: 'inline',
    tsconfigRaw: { compilerOptions },
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(source).href) },
  });
  await writeFile(target, code);
  return target;
}

/** Deletes compiled files whose source is gone (a renamed test must not keep running). */
async function prune(kept) {
  for await (const built of files(OUT, () => true)) if (!kept.has(built)) await rm(built);
}

const sources = [];
for (const folder of FOLDERS) for await (const source of files(join(ROOT, folder), isSource)) sources.push(source);
await prune(new Set(await Promise.all(sources.map(compile))));

// Compiles the TypeScript that the tests load (tests, helpers and every source folder they import)
// to JavaScript in `.test-js/`, the same tree one level down, so that `tap` runs plain `.js`
// files: without it every test process started tsx's loader thread and compiled each module it
// imported on its own, about a second of CPU per test file before its first assertion.
// `import.meta.url` keeps naming the `.ts` file, so paths relative to a test (fixtures, `dist/`,
// the README) still resolve in the source tree. Types are checked by `tsc` in `npm test`, not
// here (esbuild strips them, as tsx did). A single `.ts` test still runs directly:
// `npx tap test/some.test.ts` loads tsx for it (test/tsx-for-ts.mjs).
//
// tap runs its files in the order of their paths, a few at a time: the slowest (test/update/, the
// image) came last and ran alone at the end. `.test-js/order/` holds one entry per test that
// imports it, named so that the slowest sort first (test/durations.json, seconds of the last
// measured run; `node test/compile.mjs --durations` refreshes it from tap's last results).
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

const DURATIONS = join(ROOT, 'test/durations.json');
const ORDER = join(OUT, 'order');
/** An entry's name without its rank: the test's path under test/, `/` as `__`. */
const entryName = (test) => relative(join(ROOT, 'test'), test).replaceAll('/', '__').replace(/\.ts$/, '.js');

/** Seconds each test took in tap's last run (its results under `.tap/test-results/.test-js/order/`). */
async function lastDurations() {
  const results = join(ROOT, '.tap/test-results/.test-js/order');
  const seconds = {};
  for await (const path of files(results, (name) => name.endsWith('.tap'))) {
    const time = /^# time=([\d.]+)ms$/m.exec(await readFile(path, 'utf8'));
    const name = relative(results, path)
      .replace(/^\d+-/, '')
      .replace(/\.tap$/, '');
    if (time) seconds[`test/${name.replaceAll('__', '/').replace(/\.js$/, '.ts')}`] = Math.round(Number(time[1]) / 100) / 10;
  }
  return Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => a.localeCompare(b)));
}

/** Writes one entry per test, ranked slowest first; returns their paths. */
async function orderedEntries(tests) {
  const seconds = JSON.parse(await readFile(DURATIONS, 'utf8').catch(() => '{}'));
  const ranked = tests
    .map((test) => ({ test, s: seconds[relative(ROOT, test)] ?? 0 }))
    .sort((a, b) => b.s - a.s || a.test.localeCompare(b.test));
  await mkdir(ORDER, { recursive: true });
  return Promise.all(
    ranked.map(async ({ test }, rank) => {
      const entry = join(ORDER, `${String(rank).padStart(3, '0')}-${entryName(test)}`);
      const target = relative(ORDER, join(OUT, relative(ROOT, test))).replace(/\.ts$/, '.js');
      const text = `import '${target}';\n`;
      if ((await readFile(entry, 'utf8').catch(() => null)) !== text) await writeFile(entry, text);
      return entry;
    }),
  );
}

if (process.argv.includes('--durations')) {
  await writeFile(DURATIONS, `${JSON.stringify(await lastDurations(), null, 2)}\n`);
} else {
  const sources = [];
  for (const folder of FOLDERS) for await (const source of files(join(ROOT, folder), isSource)) sources.push(source);
  const compiled = await Promise.all(sources.map(compile));
  const entries = await orderedEntries(sources.filter((source) => source.endsWith('.test.ts')));
  await prune(new Set([...compiled, ...entries]));
}

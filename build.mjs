// Bundles the firmware into two ESM files, dist/firmware.mjs and dist/protocol-worker.mjs, each installer tool into
// dist/tools/<name>.mjs, the benchmarks into dist/bench/main.mjs and the web page (web/: TS, CSS
// and uPlot's CSS bundled, the HTML copied) into dist/web/, which the firmware serves. Native addons stay external: they
// are loaded from node_modules at run time. `--if-needed` skips the build when the bundle is
// newer than every source file (what `npm start` uses). `--outdir DIR --version V` builds only what a
// firmware image carries (the firmware and its launcher) into DIR with V as the firmware's version
// (tools/image.ts uses it).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const OUTFILE = 'dist/firmware.mjs';
const SOURCE_DIRS = ['firmware', 'hal', 'board', 'tools', 'bench', 'web', 'vendor'];
const NATIVE = ['serialport', '@serialport/*', 'onoff', 'epoll', 'i2c-bus'];

function newestSourceMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function upToDate() {
  try {
    const builtMs = statSync(OUTFILE).mtimeMs;
    const inputs = [...SOURCE_DIRS.map(newestSourceMs), statSync('package-lock.json').mtimeMs, statSync('build.mjs').mtimeMs];
    return inputs.every((ms) => ms < builtMs);
  } catch {
    return false;
  }
}

function option(name) {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

if (process.argv.includes('--if-needed') && upToDate()) process.exit(0);

const imageDir = option('--outdir');
const version = option('--version');
// The firmware is two bundles: the control side (main thread) and the protocol side it starts in a
// worker thread beside it (README "Process structure").
const IMAGE_ENTRIES = {
  firmware: 'firmware/main.ts',
  'protocol-worker': 'firmware/protocol-worker.ts',
  launcher: 'firmware/update/launcher.ts',
};

await build({
  entryPoints:
    imageDir !== undefined
      ? IMAGE_ENTRIES
      : {
          ...IMAGE_ENTRIES,
          'tools/image': 'tools/image.ts',
          'tools/keygen': 'tools/keygen.ts',
          'tools/faults': 'tools/faults.ts',
          'tools/grid-log': 'tools/grid-log.ts',
          'tools/register-table': 'tools/register-table.ts',
          'tools/fleet': 'tools/fleet.ts',
          'tools/certificates': 'tools/certificates.ts',
          'tools/http-password': 'tools/http-password.ts',
          'bench/main': 'bench/main.ts',
        },
  outdir: imageDir ?? 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: NATIVE,
  define: version === undefined ? {} : { __FIRMWARE_VERSION__: JSON.stringify(version) },
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});

// The page goes beside the bundle that serves it: dist/web/, or web/ in an image's folder.
const webDir = join(imageDir ?? 'dist', 'web');
await build({
  entryPoints: { app: 'web/app.ts', style: 'web/style.css' },
  outdir: webDir,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
mkdirSync(webDir, { recursive: true });
copyFileSync('web/index.html', join(webDir, 'index.html'));

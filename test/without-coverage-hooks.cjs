// tap's node argument, run before the --import preloads tap adds: keeps @tapjs/processinfo from
// registering its module loader hooks. On Node 20 hooks run on a separate loader thread that
// every module load of a test process then waits for: about 1.5 s of CPU per test file (40 % of
// the suite), to record which files a test loaded, for coverage and `tap --changed`, which this
// project does not use ("disable-coverage"). processinfo uses in-thread hooks from Node 24.13 on.
'use strict';
const nodeModule = require('node:module');
const register = nodeModule.register;
nodeModule.register = function registerUnlessCoverage(specifier, ...rest) {
  if (String(specifier).includes('/@tapjs/processinfo/')) return;
  return register.call(this, specifier, ...rest);
};

// The same for the processes a test starts (the firmware, the launcher, the tools): processinfo
// puts its --import into the NODE_OPTIONS of every child (through process-on-spawn), where this
// file does not run, so each child registered the hooks, ran the loader thread and read the
// source maps of every module it loaded: ~1.2 s of CPU of a firmware boot's ~1.9 s (main thread,
// loader thread and the protocol worker). Its listener still runs; its --import is taken out after.
const processinfoRequire = nodeModule.createRequire(require.resolve('@tapjs/processinfo'));
const processOnSpawn = processinfoRequire('process-on-spawn');
/** processinfo's preload in NODE_OPTIONS, quoted or not: `"--import=file:///…/@tapjs/processinfo/dist/esm/import.mjs"`. */
const PROCESSINFO_IMPORT = /"?--(?:import|loader|experimental-loader)[= ]"?[^\s"]*\/@tapjs\/processinfo\/[^\s"]*"?/g;
const addListener = processOnSpawn.addListener;
processOnSpawn.addListener = function withoutProcessinfoHooks(listener) {
  return addListener.call(this, (child) => {
    listener(child);
    const options = (child.env.NODE_OPTIONS ?? '').replace(PROCESSINFO_IMPORT, '').trim();
    const { NODE_OPTIONS: _dropped, ...env } = child.env;
    child.env = options === '' ? env : { ...env, NODE_OPTIONS: options };
  });
};
if (process.env.NODE_OPTIONS !== undefined) {
  const options = process.env.NODE_OPTIONS.replace(PROCESSINFO_IMPORT, '').trim();
  if (options === '') delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = options;
}

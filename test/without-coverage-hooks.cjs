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

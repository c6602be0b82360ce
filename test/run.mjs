// `npm test`: the static checks and the tap suite, side by side. Each check runs on one core;
// one after the other before the suite they left the second core idle for about 40 s. The suite
// starts once what it runs is built (the bundles of `dist/`, tap's Test class, the tests'
// JavaScript); the checks' output is shown after the suite's, each with its verdict. Arguments
// go to tap (`npm test -- --reporter=tap`). Exits non-zero if anything failed.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(ROOT, 'node_modules/.bin', name);

/** Runs a command; resolves with its exit code and, unless `inherit`, its output. */
function run(command, args, { inherit = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', (err) => resolve({ code: 1, output: `${output}${err.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const CHECKS = [
  ['formatting (prettier --check; npm run format fixes it)', bin('prettier'), ['--check', '.']],
  ['import boundaries (npm run boundaries)', bin('depcruise'), ['firmware', '--config', '.dependency-cruiser.cjs']],
  ['types (tsc --noEmit)', bin('tsc'), ['--noEmit']],
  ['types of the web page (tsc --noEmit -p web)', bin('tsc'), ['--noEmit', '-p', 'web']],
];
const checks = CHECKS.map(([name, command, args]) => run(command, args).then((result) => ({ name, ...result })));

// The tests' folders (t.testdir()) stay when a test ends ("save-fixture" in package.json's tap
// settings): tap removes a folder at the end of its test, and where a test's teardown runs after
// that removal (a folder made before the teardown that stops a firmware was registered, or in a
// root-level t.before) a state file the stopping firmware writes recreated it under the removal:
// ENOTEMPTY, a failed teardown in a run whose every assertion passed. They go here instead,
// before and after the suite.
// A folder that cannot be removed is reported, not a failed run.
const FIXTURES = join(ROOT, '.tap/fixtures');
const removeFixtures = () => {
  try {
    rmSync(FIXTURES, { recursive: true, force: true, maxRetries: 5 });
  } catch (err) {
    process.stderr.write(`could not remove ${FIXTURES}: ${err.message}\n`);
  }
};
removeFixtures();

let built = { code: 0 };
for (const step of ['build.mjs', 'test/tap-build.mjs', 'test/compile.mjs']) {
  built = await run(process.execPath, [join(ROOT, step)], { inherit: true });
  if (built.code !== 0) break;
}
const suite = built.code === 0 ? await run(bin('tap'), process.argv.slice(2), { inherit: true }) : built;
removeFixtures();

let failed = suite.code !== 0;
for (const check of await Promise.all(checks)) {
  if (check.code !== 0) process.stdout.write(check.output);
  process.stdout.write(`${check.code === 0 ? 'passed' : 'FAILED'}: ${check.name}\n`);
  failed ||= check.code !== 0;
}
process.exitCode = failed ? 1 : 0;

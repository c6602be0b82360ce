// Builds tap's Test class with the plugins of package.json's "tap" config before the run, when it
// was built with others: `npm ci` installs it built with tap's defaults, @tapjs/typescript among
// them. tap rebuilds by itself in that case ("tap build ... is done automatically when running
// tests if the set of plugins does not match", `tap --help`), but its runner has by then read the
// test processes' import hooks from the old build: the first run in a fresh clone (every CI run)
// would load ts-node into every test process beside tsx. Run only when needed: a build costs
// about 15 s of CPU.
import { TapConfig } from '@tapjs/config';
import { signature } from '@tapjs/test';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const config = await TapConfig.load();
if (config.pluginSignature !== signature) {
  const tapBin = join(dirname(fileURLToPath(import.meta.resolve('tap/package.json'))), 'dist/esm/run.mjs');
  execFileSync(process.execPath, [tapBin, 'build'], { stdio: 'inherit' });
}

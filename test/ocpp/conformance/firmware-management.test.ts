import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { LogFile } from '../../../firmware/diagnostics/log-file.js';
import { createLogger } from '../../../firmware/log.js';

/**
 * OCA OCPP 1.6 charge-point test cases, Firmware Management (GetDiagnostics, UpdateFirmware), as
 * far as this issue bears on them: what GetDiagnostics may carry. Uploads and updates themselves
 * are in test/update/ and test/diagnostics/.
 */

t.test('the web setup code is kept out of dataDir/logs/firmware.log, the copy GetDiagnostics uploads', async (t) => {
  const dir = t.testdir({
    'firmware.log':
      '{"time":"2026-01-01T00:00:00.000Z","level":"warn","msg":"web interface has no password yet","setupCode":"123-456-7890"}\n',
  });
  const file = new LogFile(dir);
  const console: string[] = [];
  const log = createLogger({
    write: (line) => {
      console.push(line);
      file.append(line);
    },
  });
  log.warn('web interface has no password yet: open the page and set one with this setup code (or run npm run http-password)', {
    url: 'http://127.0.0.1:8080/',
    setupCode: '987-654-3210',
  });
  log.info('firmware running');
  await file.close();
  t.ok(
    console.some((line) => line.includes('987-654-3210')),
    'the console (journal) has it: the installer reads it there',
  );
  const text = await readFile(join(dir, 'firmware.log'), 'utf8');
  t.notOk(text.includes('987-654-3210'), 'not written to the diagnostics copy');
  const lines = await file.linesBetween(null, null);
  t.ok(
    lines.some((line) => line.includes('firmware running')),
    'other lines are',
  );
  t.notOk(
    lines.some((line) => line.includes('setupCode')),
    'nor read back from an older copy into a diagnostics upload',
  );
});

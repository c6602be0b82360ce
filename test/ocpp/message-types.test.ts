import { readFile } from 'node:fs/promises';
import t from 'tap';
// @ts-expect-error the generator is a plain script (no declarations)
import { ocppTypes } from '../../vendor/ocpp1.6-schemas/generate-types.mjs';

t.test('the committed OCPP 1.6 message types are those the vendored schemas give (npm run ocpp-types)', async (t) => {
  const committed = await readFile(new URL('../../vendor/ocpp1.6-schemas/ocpp1_6.ts', import.meta.url), 'utf8');
  t.equal(await ocppTypes(), committed);
});

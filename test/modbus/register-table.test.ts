import t from 'tap';
import { readFileSync } from 'node:fs';
import { registerTableMarkdown } from '../../firmware/modbus/register-table.js';

t.test("the README's register table is the one generated from the register map", async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  t.ok(readme.includes(registerTableMarkdown()), 'regenerate it with: npm run register-table');
});

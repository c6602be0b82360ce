import { registerTableMarkdown } from '../firmware/modbus/register-table.js';

/** Prints the Modbus register map as a Markdown table, for the README. */
process.stdout.write(registerTableMarkdown() + '\n');

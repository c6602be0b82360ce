import { createHash } from 'node:crypto';

/** The kinds of check (their ajv options: compile.ts). */
export type CheckPreset = 'config' | 'first';

/**
 * What finds a schema's build-time check: the preset and a digest of the schema's JSON, so that a
 * call site needs no name and a schema changed without a rebuild is an error, not a stale check.
 */
export function schemaKey(preset: CheckPreset, schema: object): string {
  return `${preset}:${createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 20)}`;
}

import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { schemaKey, type CheckPreset } from './key.js';

// The JSON-schema checks of the config, the board file, the port between the two threads and the
// web API's bodies. Run from source (tests, tsx) they are compiled here with ajv on first use; the
// bundles never load this file: build.mjs puts in its place the same checks ajv generated at
// build time (standalone code, build/schema-checks.ts), so that a start compiles no schema and
// neither thread loads ajv's compiler (issue #21: it was most of the start-up time).

/** ajv's options for each kind of check. */
export const PRESET_OPTIONS: Readonly<Record<CheckPreset, Options>> = {
  // Every error of the installer's file at once, and the defaults the schema declares filled in.
  config: { allErrors: true, strict: false, useDefaults: true },
  // The first error is the answer (a 400, a refused message).
  first: { allErrors: false, strict: false },
};

const instances = new Map<CheckPreset, Ajv>();

/** Every check compiled so far, by key: what build/schema-checks.ts generates code for. */
export const compiledChecks = new Map<string, { readonly preset: CheckPreset; readonly schema: object }>();

/** The check of `schema`: the validating function with its `errors`, as ajv.compile returns it. */
export function compileCheck<T>(preset: CheckPreset, schema: object): ValidateFunction<T> {
  let ajv = instances.get(preset);
  if (ajv === undefined) {
    ajv = new Ajv(PRESET_OPTIONS[preset]);
    instances.set(preset, ajv);
  }
  compiledChecks.set(schemaKey(preset, schema), { preset, schema });
  return ajv.compile<T>(schema);
}

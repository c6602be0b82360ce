import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';

/** Made on the first check: building an Ajv compiles its meta-schema, work a start need not do. */
let ajv: Ajv | null = null;

/**
 * The accept function of a stored file (`readStore`) from its TypeBox schema: the file is of the
 * schema's type exactly when the check passes. Compiled on first use, so a start compiles only the
 * checks of the files it reads. Members the schema does not name are allowed (JSON Schema's
 * default), as a version from before or after a change of the file may add one.
 */
export function storedCheck<S extends TSchema>(schema: S): (stored: unknown) => stored is Static<S> {
  let check: ValidateFunction<Static<S>> | null = null;
  return (stored: unknown): stored is Static<S> => {
    ajv ??= new Ajv({ allErrors: false, strict: false });
    check ??= ajv.compile<Static<S>>(schema);
    return check(stored);
  };
}

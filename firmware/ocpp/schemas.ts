import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
// The official OCPP 1.6 JSON schemas (with the security extension), vendored: vendor/ocpp1.6-schemas/README.md.
import officialSchemas from '../../vendor/ocpp1.6-schemas/ocpp1_6.json' with { type: 'json' };

/** OCPP-J 1.6 error codes of a CALLERROR (OCPP-J §4.2.3). */
export type RpcErrorCode =
  | 'NotImplemented'
  | 'NotSupported'
  | 'InternalError'
  | 'ProtocolError'
  | 'SecurityError'
  | 'FormationViolation'
  | 'PropertyConstraintViolation'
  | 'OccurenceConstraintViolation'
  | 'TypeConstraintViolation'
  | 'GenericError';

// multipleOf 0.1 in binary floating point: without a precision, 0.3 or 48.3 would fail it.
const ajv = new Ajv({ allErrors: false, strict: false, multipleOfPrecision: 6 });
// ajv-formats is CommonJS: its module object carries the plugin as `default` in every loader.
addFormatsModule.default(ajv);

/** By `Action.req` / `Action.conf`. */
const schemas: Record<string, object> = Object.fromEntries(
  (officialSchemas as Array<{ $id: string }>).map(({ $id, ...schema }) => [$id.replace(/^urn:/, ''), schema]),
);
const compiled = new Map<string, ValidateFunction>();

function validator(name: string): ValidateFunction | null {
  const cached = compiled.get(name);
  if (cached) return cached;
  const schema = schemas[name];
  if (!schema) return null;
  const validate = ajv.compile(schema);
  compiled.set(name, validate);
  return validate;
}

/** Whether OCPP 1.6 (with the security extension) defines `action`. */
export function isOcppAction(action: string): boolean {
  return Object.hasOwn(schemas, `${action}.req`);
}

export interface SchemaViolation {
  readonly code: RpcErrorCode;
  readonly description: string;
}

/**
 * Checks a payload against the official OCPP 1.6 JSON schema of `action`'s request or response;
 * null when valid. The error code follows OCPP-J: a missing or repeated field is an occurrence
 * violation, a wrong JSON type a type violation, a bad value a property violation, and a field
 * the PDU does not have a formation violation.
 */
export function checkPayload(action: string, kind: 'Request' | 'Response', payload: unknown): SchemaViolation | null {
  const validate = validator(`${action}.${kind === 'Request' ? 'req' : 'conf'}`);
  if (!validate) return { code: 'NotImplemented', description: `no schema for ${action}` };
  if (validate(payload)) return null;
  const error = validate.errors?.[0];
  return { code: codeFor(error), description: describe(error) };
}

function codeFor(error: ErrorObject | undefined): RpcErrorCode {
  switch (error?.keyword) {
    case 'required':
    case 'minItems':
    case 'maxItems':
      return 'OccurenceConstraintViolation';
    case 'type':
      return error.instancePath === '' ? 'FormationViolation' : 'TypeConstraintViolation';
    case 'additionalProperties':
      return 'FormationViolation';
    default:
      return 'PropertyConstraintViolation';
  }
}

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'invalid payload';
  const where = error.instancePath || 'payload';
  const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
  return `${where} ${error.message ?? 'is invalid'}${extra}`;
}

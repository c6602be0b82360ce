import { createHash } from 'node:crypto';

/**
 * The checksum of a JSON state file, carried inside its top-level object as one extra member,
 * last: `<TAB>"#sha256":"<64 hex digits>"`. The file stays plain JSON of the same shape, so a
 * version from before checksums (the updater may roll back to one) still parses it, and its
 * shape guards ignore an unknown key; no state file has a key starting with `#`.
 *
 * What is hashed: `JSON.stringify(object)` of the object without the `#sha256` key, its keys in
 * the order `JSON.parse` gives them back (the order written, integer-like keys first), without
 * indentation: SHA-256 of that text's UTF-8 bytes, lower-case hex. Over the parsed value rather
 * than the bytes, so that how the writer indented does not matter.
 *
 * Why the tab: no `JSON.stringify` writes a raw tab, so it marks a checksum this module wrote.
 * A version before checksums that copies the object it read into the next one it writes (key
 * included, its checksum now stale) writes no tab: that file is taken as unchecked and sealed
 * again at the next write, never as damaged. A checksum member marked by the tab whose name,
 * hex or sum does not match is a mismatch: a flipped bit anywhere that still parses changes the
 * value (the sum fails), the member (name or hex fail), or nothing (JSON whitespace, `e`/`E`).
 *
 * Only a top-level object carries one: a file holding an array (the transaction history) is
 * written as it is, caught when damaged by parsing, its shape guard and its previous generation.
 */
export const CHECKSUM_KEY = '#sha256';

/** The checksum member as `seal` writes it: a tab, a 7-character name and a 64-character value, last in the object. */
const MEMBER = /\t"([^"\\]{7})":"([^"\\]{64})"\s*\}\s*$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function withoutChecksum(object: Record<string, unknown>): Record<string, unknown> {
  const { [CHECKSUM_KEY]: _checksum, ...rest } = object;
  return rest;
}

function checksumOf(object: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(object)).digest('hex');
}

/** `json` (a `JSON.stringify` text) with the checksum member added when it holds an object; anything else as it is. */
export function seal(json: string): string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return json;
  }
  if (!isPlainObject(value)) return json;
  const object = withoutChecksum(value);
  const text = CHECKSUM_KEY in value ? JSON.stringify(object) : json;
  // Just after the last member (or the opening brace), keeping the writer's indentation.
  const close = text.lastIndexOf('}');
  const end = text.slice(0, close).trimEnd().length;
  const separator = Object.keys(object).length > 0 ? ',' : '';
  return `${text.slice(0, end)}${separator}\t"${CHECKSUM_KEY}":"${checksumOf(object)}"${text.slice(end)}`;
}

/**
 * The value of a state file's JSON text, its checksum checked and removed. A file without a
 * checksum member of this module's (written before checksums, by a version before them, or by
 * hand) is taken as it is, a stale `#sha256` key it carries dropped.
 */
export function unseal(text: string): { readonly value: unknown } | { readonly mismatch: true } {
  const value: unknown = JSON.parse(text);
  if (!isPlainObject(value)) return { value };
  const object = withoutChecksum(value);
  const member = MEMBER.exec(text);
  if (member === null) return { value: object };
  const sealed = member[1] === CHECKSUM_KEY && /^[0-9a-f]{64}$/.test(member[2] as string) && value[CHECKSUM_KEY] === member[2];
  return sealed && checksumOf(object) === member[2] ? { value: object } : { mismatch: true };
}

import { createHash } from 'node:crypto';

/**
 * The checksum line of a state file: `#sha256 <64 hex digits>` before the content, over the
 * content's bytes. A bit flip that still parses with the right shape fails it; the content stays
 * hand-readable below. Before the content (not after it) so that a write cut at any byte, even
 * one ending exactly where the content does, fails it too.
 */
const LINE = /^#sha256 ([0-9a-f]{64})\n/;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `content` with its checksum line first. */
export function seal(content: string): string {
  return `#sha256 ${sha256(content)}\n${content}`;
}

/**
 * The content of a file `seal` wrote, checked; a file without a checksum line (written by a
 * version before checksums, or edited by hand with the line removed) is taken as it is.
 */
export function unseal(text: string): { readonly content: string } | { readonly mismatch: true } {
  const line = LINE.exec(text);
  if (line === null) return { content: text };
  const content = text.slice(line[0].length);
  return sha256(content) === line[1] ? { content } : { mismatch: true };
}

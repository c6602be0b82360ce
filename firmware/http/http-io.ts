import type { IncomingMessage, ServerResponse } from 'node:http';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { compileCheck } from '../schema-check/compile.js';

/** An answer other than 200: the status and a reason a person can act on. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Largest request body: a PEM certificate chain with its key fits comfortably. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The request body as JSON; 413 past `maxBytes`, 400 when it is not JSON. */
export async function readJson(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `body larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'body: a JSON object is required');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** A checker of request bodies: 400 naming the key (`body` for the whole). */
export function bodyParser<S extends TSchema>(schema: S): (body: unknown) => Static<S> {
  const check = compileCheck('first', schema);
  return (body) => {
    if (check(body)) return body as Static<S>;
    const error = check.errors?.[0];
    let where = error?.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : '';
    if (error?.keyword === 'additionalProperties') where = [where, String(error.params['additionalProperty'])].filter(Boolean).join('.');
    if (error?.keyword === 'required') where = [where, String(error.params['missingProperty'])].filter(Boolean).join('.');
    const reason =
      error?.keyword === 'additionalProperties'
        ? 'unknown key'
        : error?.keyword === 'required'
          ? 'is required'
          : (error?.message ?? 'is invalid');
    throw new HttpError(400, `${where || 'body'}: ${reason}`);
  };
}

/** `{}`: the body of requests that carry nothing but must still be JSON (the CSRF rule). */
export const EmptyBody = Type.Object({}, { additionalProperties: false });

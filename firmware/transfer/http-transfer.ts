import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { sleep, type Clock } from '../../hal/clock.js';

/**
 * File transfers the central system asks for (firmware downloads, diagnostics uploads) over
 * http:// and https:// with Node's fetch. Other schemes (ftp://) are refused with a clear reason.
 */

export class TransferError extends Error {
  override name = 'TransferError';
}

/**
 * The URL to fetch and its headers. Central systems often put credentials into the location
 * (`https://user:password@host/…`); fetch refuses such URLs, so they become Basic auth.
 */
function target(location: string): { readonly url: URL; readonly headers: Record<string, string> } {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new TransferError('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TransferError(`${url.protocol} is not supported (http and https are)`);
  if (url.username === '' && url.password === '') return { url, headers: {} };
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  return { url, headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` } };
}

/** Where a location is, for logs: without user and password. */
export function safeLocation(location: string): string {
  try {
    const url = new URL(location);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return '(not a URL)';
  }
}

/** Downloads `location` into `file`; rejects on a non-2xx answer, a larger body than `maxBytes` or `timeoutMs`. */
export async function downloadToFile(
  location: string,
  file: string,
  options: { readonly timeoutMs: number; readonly maxBytes: number },
): Promise<number> {
  const { url, headers } = target(location);
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs) });
  if (!response.ok || response.body === null) throw new TransferError(`HTTP ${response.status} from ${safeLocation(location)}`);
  let bytes = 0;
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > options.maxBytes) body.destroy(new TransferError(`larger than ${options.maxBytes} bytes`));
  });
  await pipeline(body, createWriteStream(file, { mode: 0o600 }));
  return bytes;
}

/**
 * Uploads `file` to `location` as a multipart/form-data POST (field `file`, with its name), what
 * common upload endpoints take; rejects on a non-2xx answer or `timeoutMs`.
 */
export async function uploadFile(
  location: string,
  file: string,
  options: { readonly timeoutMs: number; readonly contentType: string },
): Promise<void> {
  const { url, headers } = target(location);
  const form = new FormData();
  form.append('file', new Blob([await readFile(file)], { type: options.contentType }), basename(file));
  const response = await fetch(url, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(options.timeoutMs) });
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new TransferError(`HTTP ${response.status} from ${safeLocation(location)}`);
}

/**
 * Runs `attempt` once plus `retries` more times, `retryIntervalS` apart on `clock` (OCPP's retries
 * and retryInterval). Rejects with the last error.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  policy: { readonly retries: number; readonly retryIntervalS: number },
  clock: Clock,
  onFailure: (n: number, err: Error) => void,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      onFailure(n, err as Error);
      if (n > policy.retries) throw err;
      await sleep(clock, policy.retryIntervalS * 1000);
    }
  }
}

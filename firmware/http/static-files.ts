import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

export interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
}

/**
 * The web page's files (`dist/web/`, built by build.mjs), read once at start into memory: only the
 * names found there are served, so no request path can reach another file.
 */
export async function loadWebFiles(root: string): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return files;
  }
  for (const name of names) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType === undefined) continue;
    files.set(`/${name}`, { body: await readFile(join(root, name)), contentType });
  }
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { summarize } from './stats.js';

/** The footprint figures of issue #21: what the firmware's processes hold and what its bundles weigh. */

/** The process `pid` and every process below it (Linux /proc). */
function processTree(pid: number): number[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
      .split(' ')
      .filter((child) => child !== '')
      .map(Number),
  );
  return [pid, ...children.flatMap(processTree)];
}

const statusField = (pid: number, field: string): number =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

/** Resident memory of `pid` and all its descendants, MB, with how many processes and threads that is. */
export function firmwareFootprint(pid: number): { mb: number; processes: number; threads: number } {
  const tree = processTree(pid);
  return {
    mb: tree.reduce((sum, p) => sum + statusField(p, 'VmRSS'), 0) / 1024,
    processes: tree.length,
    threads: tree.reduce((sum, p) => sum + statusField(p, 'Threads'), 0),
  };
}

interface Metafile {
  outputs: Record<string, { bytes: number; imports: { path: string; kind: string; external?: boolean }[] }>;
}

/** The firmware bundles' sizes from build.mjs's metafile: everything, and what a start loads (the entries and their static imports). */
export function bundleSizes(root: string): { totalKb: number; atStartKb: number; lazyChunks: string[]; sharedChunks: string[] } {
  const entries = ['dist/firmware.mjs', 'dist/protocol-worker.mjs'];
  const metafile = join(root, 'dist/firmware-meta.json');
  if (!existsSync(metafile)) {
    // A build before the bundles were split (a baseline): the two files are all there is.
    const kb = entries.reduce((sum, file) => sum + statSync(join(root, file)).size, 0) / 1024;
    return { totalKb: kb, atStartKb: kb, lazyChunks: [], sharedChunks: [] };
  }
  const meta = JSON.parse(readFileSync(metafile, 'utf8')) as Metafile;
  const loaded = new Set<string>();
  const lazy = new Set<string>();
  const visit = (file: string): void => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const { path, kind, external } of meta.outputs[file]?.imports ?? []) {
      if (external) continue;
      if (kind === 'import-statement') visit(path);
      else if (kind === 'dynamic-import') lazy.add(path);
    }
  };
  entries.forEach(visit);
  // Everything the two entries can ever load: the static closure and every lazy chunk's.
  const reachable = new Set(loaded);
  const visitAll = (file: string): void => {
    if (reachable.has(file) && !lazy.has(file)) return;
    reachable.add(file);
    for (const { path, external } of meta.outputs[file]?.imports ?? []) if (!external && !reachable.has(path)) visitAll(path);
  };
  [...lazy].forEach(visitAll);
  const kb = (files: Set<string>): number => [...files].reduce((sum, f) => sum + (meta.outputs[f]?.bytes ?? 0), 0) / 1024;
  return {
    totalKb: kb(reachable),
    atStartKb: kb(loaded),
    lazyChunks: [...lazy].filter((f) => !loaded.has(f)),
    sharedChunks: [...loaded].filter((f) => !entries.includes(f)),
  };
}

/**
 * First use of what is loaded lazily: a fresh Node process loads what a started firmware has
 * loaded already (`preloaded`: the shared chunks, and lazy chunks a chunk needs loaded before it,
 * as reflect-metadata before @peculiar/x509), then the wall time of importing `chunk` (with what it
 * imports in turn); the median of 5 processes, ms, or the import's error.
 */
export function lazyImportMs(root: string, chunk: string, preloaded: readonly string[]): number | string {
  const url = (file: string): string => JSON.stringify(join(root, file));
  const script = `${preloaded.map((f) => `await import(${url(f)});`).join(' ')} const t = performance.now(); await import(${url(chunk)}); console.log(performance.now() - t);`;
  try {
    const samples = Array.from({ length: 5 }, () =>
      Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: 'pipe' }).trim()),
    );
    return summarize(samples).median;
  } catch (err) {
    return /Error: .*/.exec(String((err as { stderr?: string }).stderr))?.[0]?.slice(0, 200) ?? 'import failed';
  }
}

import { REGISTERS } from './registers.js';

function ranges(ranges: ReadonlyArray<readonly [number, number]> | undefined): string {
  if (!ranges) return '';
  return ranges.map(([min, max]) => (min === max ? String(min) : `${min}..${max}`)).join(', ');
}

/** The register map as the README's Markdown table, generated from the one table in registers.ts. */
export function registerTableMarkdown(): string {
  const rows = REGISTERS.map((def) => {
    const unit = def.scale ? `${def.scale} ${def.unit ?? ''}`.trim() : (def.unit ?? '');
    return `| ${def.address} | ${def.count} | ${def.access} | ${def.type} | ${unit} | ${def.storage} | ${ranges(def.writable)} | ${def.description} |`;
  });
  return [
    '| addr | regs | access | type | unit | storage | writable values (raw) | meaning |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../test/support/harness.js';

// Prints a small table and writes bench/results/<name>.json.
export function report(
  name: string,
  rows: Array<Record<string, string | number>>,
  extra: Record<string, unknown> = {},
): void {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const data = { name, at: new Date().toISOString(), node: process.version, rows, ...extra };
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i]!)).join('  ');
  process.stdout.write(
    `\n== ${name}\n${line(cols)}\n${rows.map((r) => line(cols.map((c) => String(r[c] ?? '')))).join('\n')}\n`,
  );
  for (const [k, v] of Object.entries(extra))
    process.stdout.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
}

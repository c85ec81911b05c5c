import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ToolError } from '../errors.js';
import { reportHtml } from './report-html.js';
import type { CompareResult } from './types.js';

// Where a comparison's files went.
export interface ReportPaths {
  dir: string;
  json: string;
  html: string;
}

// The default output folder: ./compare-YYYYMMDD-HHMMSS (UTC) under `base`.
export function defaultOutDir(base: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-:]/g, '')
    .replace('T', '-');
  return resolve(base, `compare-${stamp}`);
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
}

// Writes compare.json (every run and the summary) and report.html into `dir`, creating it.
export function writeReport(dir: string, result: CompareResult): ReportPaths {
  const paths = {
    dir: resolve(dir),
    json: join(resolve(dir), 'compare.json'),
    html: join(resolve(dir), 'report.html'),
  };
  try {
    mkdirSync(paths.dir, { recursive: true });
    writeAtomic(paths.json, `${JSON.stringify(result, null, 2)}\n`);
    writeAtomic(paths.html, reportHtml(result));
  } catch (err) {
    throw new ToolError(
      `--out: cannot write the report to ${paths.dir} ` +
        `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return paths;
}

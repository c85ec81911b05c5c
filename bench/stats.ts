import { readFileSync } from 'node:fs';

// Percentile of a list of numbers (nearest-rank).
export function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (v: number[]) => pct(v, 50);
export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

// The rows of a timing table: each path's median and p90, and its median over the baseline's (column
// ratio_vs_<baseline>), so a figure reads as a ratio on any machine.
export function ratioRows(
  baseline: { name: string; times: number[] },
  paths: Array<[path: string, times: number[]]>,
): Array<Record<string, string | number>> {
  const base = median(baseline.times);
  return paths.map(([path, v]) => ({
    path,
    median_ms: round(median(v)),
    p90_ms: round(pct(v, 90)),
    [`ratio_vs_${baseline.name}`]: round(median(v) / base, 3),
  }));
}

// Resident memory of a process in MB, from /proc.
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return round(kb / 1024);
  } catch {
    return NaN;
  }
}

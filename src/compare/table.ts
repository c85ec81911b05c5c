import { METRICS, type CompareSummary, type Metric, type TierSummary } from './types.js';

// How each metric is labelled and printed, shared by the text table and the HTML report.
export const METRIC_LABELS: Record<Metric, string> = {
  success_rate: 'success rate',
  latency_p50_ms: 'latency p50',
  latency_p95_ms: 'latency p95',
  first_event_p50_ms: 'first event p50',
  cost_mean_usd: 'cost mean',
  cost_total_usd: 'cost total',
  turns_mean: 'turns mean',
  output_tokens_mean: 'output tokens mean',
};

// What a table shows where a number means nothing (a rate of no runs, a ratio over zero).
export const NO_VALUE = '–';

// "1 run", "2 runs": a count with its noun.
export const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

// One metric's value as text: percentages, milliseconds, dollars to the micro-dollar, means to one decimal.
export function formatMetric(metric: Metric, value: number | null): string {
  if (value === null) return NO_VALUE;
  if (metric === 'success_rate') return `${(value * 100).toFixed(1)}%`;
  if (metric.endsWith('_ms')) return `${Math.round(value)} ms`;
  if (metric.endsWith('_usd')) return `$${value.toFixed(6)}`;
  return value.toFixed(1);
}

// A ratio b/a as text ("–" when undefined).
export const formatRatio = (r: number | null): string => (r === null ? NO_VALUE : `${r.toFixed(2)}x`);

const cell = (t: TierSummary, m: Metric) => formatMetric(m, t[m]);

// The comparison as a plain-text table: one row per metric, a column per tier, then b/a.
export function compareTable(summary: CompareSummary): string {
  const rows: string[][] = [['metric', summary.a.tier, summary.b.tier, 'b/a']];
  rows.push(['runs', String(summary.a.runs), String(summary.b.runs), '']);
  for (const m of METRICS)
    rows.push([METRIC_LABELS[m], cell(summary.a, m), cell(summary.b, m), formatRatio(summary.ratio_b_over_a[m])]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

import { METRICS, type CompareRun, type CompareSummary, type Metric, type TierSummary } from './types.js';

// The p-th percentile (0-100) by the nearest-rank method; null for no values.
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

const mean = (values: number[]): number | null =>
  values.length ? values.reduce((s, v) => s + v, 0) / values.length : null;
const present = (values: Array<number | null>): number[] => values.filter((v): v is number => v !== null);

// One tier's numbers over its runs: rates and means over every run, percentiles over the runs that have the value;
// a rate or mean of no runs is null (shown as "–"), never 0.
export function summarizeTier(tier: string, runs: CompareRun[]): TierSummary {
  const own = runs.filter((r) => r.tier === tier);
  const succeeded = own.filter((r) => r.success).length;
  const latencies = present(own.map((r) => r.latency_ms));
  const costs = own.map((r) => r.cost_usd);
  return {
    tier,
    runs: own.length,
    succeeded,
    success_rate: own.length ? succeeded / own.length : null,
    latency_p50_ms: percentile(latencies, 50),
    latency_p95_ms: percentile(latencies, 95),
    first_event_p50_ms: percentile(present(own.map((r) => r.first_event_ms)), 50),
    cost_mean_usd: mean(costs),
    cost_total_usd: costs.reduce((s, v) => s + v, 0),
    turns_mean: mean(own.map((r) => r.turns)),
    output_tokens_mean: mean(own.map((r) => r.output_tokens)),
  };
}

// b / a, or null when it means nothing (a missing or zero).
export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || a === 0) return null;
  return b / a;
}

// Both tiers' numbers and the ratio b/a of each metric.
export function summarize(tiers: [string, string], runs: CompareRun[]): CompareSummary {
  const a = summarizeTier(tiers[0], runs);
  const b = summarizeTier(tiers[1], runs);
  const ratios = Object.fromEntries(METRICS.map((m) => [m, ratio(a[m], b[m])])) as Record<Metric, number | null>;
  return { a, b, ratio_b_over_a: ratios };
}

import { z } from 'zod';

const num = z.number();
const str = z.string();
const maybe = num.nullable();

// The metrics that are compared, in table order.
export const METRICS = [
  'success_rate',
  'latency_p50_ms',
  'latency_p95_ms',
  'first_event_p50_ms',
  'cost_mean_usd',
  'cost_total_usd',
  'turns_mean',
  'output_tokens_mean',
] as const;
// One of the compared metrics.
export type Metric = (typeof METRICS)[number];

// The numbers of one tier over all its runs (null when the tier has no run, as are the means).
export const TierSummarySchema = z.object({
  tier: str,
  runs: num,
  succeeded: num,
  success_rate: maybe,
  latency_p50_ms: maybe,
  latency_p95_ms: maybe,
  first_event_p50_ms: maybe,
  cost_mean_usd: maybe,
  cost_total_usd: num,
  turns_mean: maybe,
  output_tokens_mean: maybe,
});
export type TierSummary = z.infer<typeof TierSummarySchema>;

// Both tiers' numbers and, per metric, b divided by a (null when a is zero or missing).
export const CompareSummarySchema = z.object({
  a: TierSummarySchema,
  b: TierSummarySchema,
  ratio_b_over_a: z.record(z.enum(METRICS), maybe),
});
export type CompareSummary = z.infer<typeof CompareSummarySchema>;

// What compare_status (and kill_task { compare_id }) shows of one comparison.
export const CompareStatusSchema = z.object({
  compare_id: str,
  state: z.enum(['running', 'done', 'failed', 'stopped']),
  tiers: z.tuple([str, str]),
  done: num,
  total: num,
  started_at: str,
  ended_at: str.optional(),
  /** While it runs: the run going now and its task's last event. */
  current: z.object({ prompt_index: num, run: num, tier: str, task_id: str.optional(), progress: str }).optional(),
  /** Who stopped it, when it was stopped (kill_task, a cancelled request, the server's shutdown). */
  stopped_by: str.optional(),
  /** How many of its runs failed, and the first one's reason. */
  failed_runs: num.optional(),
  first_failure: str.optional(),
  summary: CompareSummarySchema.optional(),
  table: str.optional(),
  json_path: str.optional(),
  html_path: str.optional(),
  error: str.optional(),
});
export type CompareStatus = z.infer<typeof CompareStatusSchema>;

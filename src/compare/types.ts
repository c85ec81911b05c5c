// One run of one prompt on one tier, as compare.json keeps it.
export interface CompareRun {
  /** 0-based index into the prompts. */
  prompt_index: number;
  /** 1-based repetition of that prompt on that tier. */
  run: number;
  tier: string;
  task_id?: string;
  /** Final state of the task ("refused" when it could not be started). */
  state: string;
  success: boolean;
  /** From submission to the final state (queue time included). */
  latency_ms: number | null;
  /** From the task's start to claude's first event. */
  first_event_ms: number | null;
  cost_usd: number;
  turns: number;
  output_tokens: number;
  error?: string;
}

// The numbers of one tier over all its runs.
export interface TierSummary {
  tier: string;
  runs: number;
  succeeded: number;
  /** Null when the tier has no run (as are the means). */
  success_rate: number | null;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  first_event_p50_ms: number | null;
  cost_mean_usd: number | null;
  cost_total_usd: number;
  turns_mean: number | null;
  output_tokens_mean: number | null;
}

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

// Both tiers' numbers and, per metric, b divided by a (null when a is zero or missing).
export interface CompareSummary {
  a: TierSummary;
  b: TierSummary;
  ratio_b_over_a: Record<Metric, number | null>;
}

// What a comparison is asked to do.
export interface ComparePlan {
  tiers: [string, string];
  prompts: string[];
  runs: number;
}

// A finished (or stopped) comparison: compare.json.
export interface CompareResult extends ComparePlan {
  version: 1;
  started_at: string;
  ended_at: string;
  /** True when it was stopped before every run was done. */
  aborted: boolean;
  results: CompareRun[];
  summary: CompareSummary;
}

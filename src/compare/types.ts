import type { CompareSummary } from '../shapes/compare.js';

// The compared metrics and the summaries are shapes of a tool's output: declared once, in src/shapes.
export { METRICS, type Metric, type TierSummary, type CompareSummary } from '../shapes/compare.js';

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

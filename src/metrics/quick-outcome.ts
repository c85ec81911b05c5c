import type { RunOutcome } from '../claude/run.js';
import type { FinishedQuick } from './metrics.js';

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

// What one quick run tells the metrics: answered, error (claude's result was an error), exited, refused (it never
// ran: breaker, bad input, no claude) or the reason it was stopped; cost and tokens from claude's result, if any.
export function quickFinished(
  tier: string,
  model: string,
  outcome: RunOutcome | undefined,
  answered: boolean,
  ms: number,
): FinishedQuick {
  const outcomeLabel = answered
    ? 'answered'
    : !outcome
      ? 'refused'
      : outcome.kind === 'stopped'
        ? outcome.stop.reason
        : outcome.kind === 'exited'
          ? 'exited'
          : 'error';
  const result = outcome?.kind === 'result' ? outcome.result : undefined;
  const usage = (result?.usage ?? {}) as Record<string, unknown>;
  return {
    tier,
    model,
    outcome: outcomeLabel,
    seconds: ms / 1000,
    costUsd: num(result?.total_cost_usd),
    inputTokens: num(usage.input_tokens) + num(usage.cache_read_input_tokens) + num(usage.cache_creation_input_tokens),
    outputTokens: num(usage.output_tokens),
  };
}

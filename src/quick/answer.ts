import type { ResultEvent } from '../claude/events.js';
import { describeApiError, ToolError, upstreamStatus } from '../errors.js';
import type { QuickAnswer } from '../shapes/quick-answer.js';
import type { QuickRequest } from '../shapes/requests.js';
import { resultText } from '../tier-run/tier-run.js';

// The quick request and answer shapes live in src/shapes.
export type { QuickAnswer, QuickRequest };

// An API failure after claude's own retries; the status decides whether a fallback tier may help.
export class ApiFailure extends ToolError {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

// A successful result as the caller's answer.
export function toAnswer(
  tierName: string,
  requestedModel: string,
  r: ResultEvent,
  durationMs: number,
  fallbackModel: string | undefined,
): QuickAnswer {
  const usage = r.usage ?? {};
  const models = Object.keys(r.modelUsage ?? {});
  const answer: QuickAnswer = {
    answer: r.result ?? '',
    tier: tierName,
    model: models[0] ?? requestedModel,
    session_id: r.session_id ?? '',
    duration_ms: num(r.duration_ms) || durationMs,
    cost_usd: num(r.total_cost_usd),
    usage: {
      input_tokens: num(usage.input_tokens),
      output_tokens: num(usage.output_tokens),
      cache_read_input_tokens: num(usage.cache_read_input_tokens),
      cache_creation_input_tokens: num(usage.cache_creation_input_tokens),
    },
    num_turns: num(r.num_turns),
    warm: false,
  };
  if (r.structured_output !== undefined) answer.output = r.structured_output;
  if (fallbackModel && models.some((m) => m.includes(fallbackModel)) && !models.some((m) => m.includes(requestedModel)))
    answer.fallback_model = fallbackModel;
  return answer;
}

// The error a failed result becomes: an ApiFailure for the API's own failures, else a ToolError that says the fix.
export function resultError(r: ResultEvent): ToolError {
  const text = resultText(r);
  const status = upstreamStatus(r.api_error_status, text);
  if (typeof status === 'number') return new ApiFailure(describeApiError(status, text), status);
  if (r.subtype === 'error_max_turns')
    return new ToolError(`stopped at the turn limit (${r.num_turns} turns); ask a narrower question or use deep_task.`);
  if (r.subtype === 'error_max_budget_usd')
    return new ToolError(`stopped at the budget limit ($${num(r.total_cost_usd).toFixed(4)} spent).`);
  return status === null
    ? new ApiFailure(describeApiError(null, text), null)
    : new ToolError(describeApiError(null, text));
}

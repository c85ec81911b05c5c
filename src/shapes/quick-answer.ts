import { z } from 'zod';

const num = z.number();
const str = z.string();

// What a quick answer returns to the caller (quick_answer's structuredContent and output schema).
export const QuickAnswerSchema = z.object({
  answer: str,
  tier: str,
  model: str,
  session_id: str,
  duration_ms: num,
  cost_usd: num,
  usage: z.object({
    input_tokens: num,
    output_tokens: num,
    cache_read_input_tokens: num,
    cache_creation_input_tokens: num,
  }),
  num_turns: num,
  /** `routed: comprehensive (mentions running tests)` when tier was "auto". */
  routed: str.optional(),
  /** Set when the tier's fallback answered instead: what failed and which tier answered. */
  fallback: z.object({ from_tier: str, reason: str }).optional(),
  /** Set when claude switched to the tier's fallback model during the run. */
  fallback_model: str.optional(),
  /** Set on a cache hit: how old the cached answer is. */
  cached: z.object({ age_s: num }).optional(),
  /** True when a warm spare (pre-spawned claude) answered. */
  warm: z.boolean(),
  /** With output_schema: the object claude returned through its StructuredOutput tool. */
  output: z.unknown().optional(),
});
export type QuickAnswer = z.infer<typeof QuickAnswerSchema>;

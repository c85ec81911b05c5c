import { z } from 'zod';
import type { Limits } from '../src/engine.js';
import { defineTool } from './define-tool.js';
import { BudgetField, CwdField, ImagesField, ModelField, OutputSchemaField, promptField, SystemPromptField, TierField } from './fields.js';

const QuickAnswerOutput = z.object({
  answer: z.string(),
  tier: z.string(),
  model: z.string(),
  session_id: z.string(),
  duration_ms: z.number(),
  cost_usd: z.number(),
  usage: z.object({
    input_tokens: z.number(),
    output_tokens: z.number(),
    cache_read_input_tokens: z.number(),
    cache_creation_input_tokens: z.number(),
  }),
  num_turns: z.number(),
  routed: z.string().optional(),
  fallback: z.object({ from_tier: z.string(), reason: z.string() }).optional(),
  fallback_model: z.string().optional(),
  cached: z.object({ age_s: z.number() }).optional(),
  warm: z.boolean(),
  output: z.unknown().optional(),
});

// The speed tier: a synchronous answer from a fast model with minimal context.
export const quickAnswerTool = (limits: Limits) => defineTool({
  name: 'quick_answer',
  title: 'Quick answer (speed tier)',
  description:
    'Ask Claude Code a quick question and wait for the answer. Speed tier: a fast model (haiku-class), minimal context, ' +
    'read-only tools, no extra MCP servers. Use deep_task for work that edits files, runs commands or takes minutes.',
  inputSchema: z.strictObject({
    prompt: promptField(limits.maxPromptChars),
    model: ModelField.optional(),
    cwd: CwdField.optional(),
    timeout_s: z
      .number({ error: 'timeout_s must be a number of seconds' })
      .positive('timeout_s must be > 0 seconds')
      .max(3600, 'timeout_s must be at most 3600; use deep_task for longer work')
      .optional()
      .describe('Give up (and stop claude) after this many seconds. Default: the tier\'s timeout (120 s).'),
    system_prompt: SystemPromptField.optional(),
    tier: TierField.optional(),
    max_budget_usd: BudgetField.optional(),
    output_schema: OutputSchemaField.optional(),
    images: ImagesField.optional(),
    cache: z.boolean({ error: 'cache must be true or false' }).optional().describe('Reuse an identical earlier answer (same tier, model, cwd, system prompt and prompt) for up to 10 minutes.'),
  }),
  outputSchema: QuickAnswerOutput,
  rateLimited: true,
  annotations: { readOnlyHint: true, openWorldHint: true },
  usage: 'quick_answer takes { prompt: string (required), model?: string, cwd?: string, timeout_s?: number, system_prompt?: string, tier?: string (or "auto"), max_budget_usd?: number (USD), output_schema?: JSON Schema object, cache?: boolean }',
  async handle(input, ctx) {
    const answer = await ctx.quick(
      { prompt: input.prompt, model: input.model, cwd: input.cwd, timeoutS: input.timeout_s, systemPrompt: input.system_prompt, tier: input.tier, cache: input.cache, outputSchema: input.output_schema, images: input.images, maxBudgetUsd: input.max_budget_usd, principal: ctx.viewer.principal },
      ctx.signal,
    );
    const notes = [answer.routed, answer.fallback && `fallback: answered by tier ${answer.tier} because ${answer.fallback.from_tier} failed (${answer.fallback.reason})`, answer.fallback_model && `fallback model used: ${answer.fallback_model}`, answer.cached && `cached answer, ${answer.cached.age_s} s old`].filter(Boolean);
    // With output_schema the text is the object as JSON (the same as structuredContent.output).
    const body = answer.output !== undefined ? JSON.stringify(answer.output) : answer.answer;
    return { text: notes.length ? `${body}\n\n(${notes.join('; ')})` : body, structured: answer as unknown as Record<string, unknown> };
  },
});

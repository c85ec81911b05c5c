import { z } from 'zod';
import { QuickAnswerSchema, type Limits } from '../src/engine.js';
import { defineTool } from './define-tool.js';
import {
  BudgetField,
  camelKeys,
  CwdField,
  ImagesField,
  ModelField,
  OutputSchemaField,
  promptField,
  SystemPromptField,
  TierField,
} from './fields.js';

// The speed tier: a synchronous answer from a fast model with minimal context.
export const quickAnswerTool = (limits: Limits) =>
  defineTool({
    name: 'quick_answer',
    title: 'Quick answer (speed tier)',
    description:
      'Ask Claude Code a quick question and wait for the answer. Speed tier: a fast model (haiku-class), ' +
      'minimal context, ' +
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
        .describe("Give up (and stop claude) after this many seconds. Default: the tier's timeout (120 s)."),
      system_prompt: SystemPromptField.optional(),
      tier: TierField.optional(),
      max_budget_usd: BudgetField.optional(),
      output_schema: OutputSchemaField.optional(),
      images: ImagesField.optional(),
      cache: z
        .boolean({ error: 'cache must be true or false' })
        .optional()
        .describe(
          'Reuse an identical earlier answer (same tier, model, cwd, system prompt and prompt) for up to 10 minutes.',
        ),
    }),
    outputSchema: QuickAnswerSchema,
    rateLimited: true,
    annotations: { readOnlyHint: true, openWorldHint: true },
    usage:
      'quick_answer takes { prompt: string (required), model?: string, cwd?: string, timeout_s?: number, ' +
      'system_prompt?: string, tier?: string (or "auto"), max_budget_usd?: number (USD), output_schema?: ' +
      'JSON Schema object, cache?: boolean }',
    async handle(input, ctx) {
      const answer = await ctx.quick({ ...camelKeys(input), principal: ctx.viewer.principal }, ctx.signal);
      const notes = [
        answer.routed,
        answer.fallback &&
          `fallback: answered by tier ${answer.tier} because ${answer.fallback.from_tier} failed ` +
            `(${answer.fallback.reason})`,
        answer.fallback_model && `fallback model used: ${answer.fallback_model}`,
        answer.cached && `cached answer, ${answer.cached.age_s} s old`,
      ].filter(Boolean);
      // With output_schema the text is the object as JSON (the same as structuredContent.output).
      const body = answer.output !== undefined ? JSON.stringify(answer.output) : answer.answer;
      return { text: notes.length ? `${body}\n\n(${notes.join('; ')})` : body, structured: answer };
    },
  });

import { z } from 'zod';
import { TaskViewSchema, type Limits } from '../src/engine.js';
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
  TaskIdField,
  TierField,
  waitField,
} from './fields.js';

const DEFAULT_WAIT_S = 3;

// The comprehensive tier: starts a long Claude Code task and returns its id at once (or its result if it is quick).
export const deepTaskTool = (limits: Limits) =>
  defineTool({
    name: 'deep_task',
    title: 'Deep task (comprehensive tier)',
    description:
      'Start a long Claude Code task in the background: strong model, full tools, the comprehensive MCP ' +
      `servers. Returns a task_id at once (after waiting up to wait_s, default ${DEFAULT_WAIT_S} s, in case it ` +
      'finishes quickly). Follow it with task_status, stop it with kill_task. ' +
      "continue_task_id resumes an earlier task's conversation as a new task.",
    inputSchema: z
      .strictObject({
        prompt: promptField(limits.maxPromptChars),
        cwd: CwdField.optional(),
        model: ModelField.optional(),
        wait_s: waitField(limits.maxWaitS)
          .optional()
          .describe(
            `Seconds to wait for a quick finish before returning the task id (0-${limits.maxWaitS}, ` +
              `default ${DEFAULT_WAIT_S}).`,
          ),
        timeout_s: z
          .number({ error: 'timeout_s must be a number of seconds' })
          .positive('timeout_s must be > 0')
          .max(86_400, 'timeout_s must be at most 86400 (a day)')
          .optional()
          .describe("Wall-clock limit for the task; default: the tier's (3600 s)."),
        idle_timeout_s: z
          .number({ error: 'idle_timeout_s must be a number of seconds' })
          .positive('idle_timeout_s must be > 0')
          .max(3600, 'idle_timeout_s must be at most 3600')
          .optional()
          .describe("Stop when claude sends no event for this long; default: the tier's (240 s)."),
        max_turns: z
          .number({ error: 'max_turns must be a whole number' })
          .int('max_turns must be a whole number')
          .min(1, 'max_turns must be >= 1')
          .max(1000, 'max_turns must be at most 1000')
          .optional(),
        max_budget_usd: BudgetField.optional(),
        max_output_tokens: z
          .number({ error: 'max_output_tokens must be a whole number' })
          .int('max_output_tokens must be a whole number')
          .positive('max_output_tokens must be > 0')
          .optional()
          .describe('Stop the task once claude has written more output tokens than this.'),
        system_prompt: SystemPromptField.optional(),
        tier: TierField.optional(),
        continue_task_id: TaskIdField.optional().describe(
          'Resume the claude session of this finished task (same cwd) as a new, linked task.',
        ),
        fork: z
          .boolean({ error: 'fork must be true or false' })
          .optional()
          .describe(
            'With continue_task_id: branch the earlier session (a new session id), so two follow-ups never ' +
              'share a transcript.',
          ),
        output_schema: OutputSchemaField.optional(),
        images: ImagesField.optional(),
        isolation: z
          .enum(['none', 'worktree'], { error: 'isolation must be "none" or "worktree"' })
          .optional()
          .describe(
            '"worktree": run in a new git worktree on branch claude-tiers/<task_id> (cwd must be in a git ' +
              "repository); default: the tier's.",
          ),
        keep_worktree: z
          .boolean({ error: 'keep_worktree must be true or false' })
          .optional()
          .describe(
            'With isolation "worktree": keep the worktree folder after the task (its work is committed to ' +
              'the branch either way).',
          ),
        base_ref: z
          .string({ error: 'base_ref must be a string' })
          .regex(
            /^[A-Za-z0-9][A-Za-z0-9._/@^~-]{0,199}$/,
            'base_ref must be a branch, tag or commit such as "main" or "v1.2" (no leading "-")',
          )
          .optional()
          .describe('With isolation "worktree": start from this commit instead of HEAD.'),
      })
      .refine((v) => !v.fork || v.continue_task_id !== undefined, {
        message: 'fork goes with continue_task_id',
        path: ['fork'],
      }),
    outputSchema: TaskViewSchema,
    rateLimited: true,
    asksCaller: true,
    showsBoard: true,
    // As a native MCP task the client polls tasks/get, so the call returns at once.
    taskInput: (input) => ({ ...input, wait_s: 0 }),
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
    usage:
      `deep_task takes { prompt: string (required), cwd?, model?, wait_s?: 0-${limits.maxWaitS}, timeout_s?, ` +
      `idle_timeout_s?, max_turns?, max_budget_usd?, max_output_tokens?, system_prompt?, tier?, ` +
      `continue_task_id?, fork?: boolean, output_schema?: JSON Schema object, isolation?: "none" | "worktree", ` +
      `keep_worktree?: boolean, base_ref? }`,
    handle: ({ wait_s: waitS = DEFAULT_WAIT_S, ...ask }, ctx) => {
      const wait = { waitS, signal: ctx.signal, progress: ctx.progress, viewer: ctx.viewer };
      if (ctx.resumeTaskId) return ctx.tasks.follow(ctx.resumeTaskId, wait);
      return ctx.tasks.start({ ...camelKeys(ask), clientId: ctx.clientId, principal: ctx.viewer.principal }, wait);
    },
  });

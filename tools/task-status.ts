import { z } from 'zod';
import { TaskStatusOutputSchema, type Limits } from '../src/engine.js';
import { defineTool } from './define-tool.js';
import { TaskIdField, waitField } from './fields.js';

// State, progress, partial output and result of one task or several, with long-poll.
export const taskStatusTool = (limits: Limits) =>
  defineTool({
    name: 'task_status',
    title: 'Task status',
    description:
      'State, progress, recent events, partial output and the final result of a deep_task. With wait_s it ' +
      'long-polls: it returns as soon as the state changes or new events arrive (after `cursor`), else after ' +
      'wait_s. With task_ids and wait_for ("any" | "all") it waits on several tasks at once.',
    inputSchema: z
      .strictObject({
        task_id: TaskIdField.optional(),
        task_ids: z
          .array(TaskIdField, { error: 'task_ids must be an array of task ids' })
          .min(1, 'task_ids must not be empty')
          .max(50, 'task_ids takes at most 50 ids')
          .optional(),
        wait_for: z
          .enum(['any', 'all'], { error: 'wait_for must be "any" or "all"' })
          .optional()
          .describe('With task_ids: return when any / all of them have finished.'),
        wait_s: waitField(limits.maxWaitS)
          .optional()
          .describe(`Long-poll for up to this many seconds (0-${limits.maxWaitS}, default 0).`),
        cursor: z
          .number({ error: 'cursor must be a number' })
          .int('cursor must be a whole number')
          .min(0, 'cursor must be >= 0')
          .optional()
          .describe("Return events after this sequence number (from a previous status's cursor)."),
        tail: z
          .number({ error: 'tail must be a number' })
          .int('tail must be a whole number')
          .min(0, 'tail must be >= 0')
          .max(200, 'tail must be at most 200')
          .optional()
          .describe('How many recent events to include (default 10).'),
      })
      .refine((v) => (v.task_id === undefined) !== (v.task_ids === undefined), {
        message: 'pass exactly one of task_id or task_ids',
        path: ['task_id'],
      })
      .refine((v) => v.wait_for === undefined || v.task_ids !== undefined, {
        message: 'wait_for goes with task_ids',
        path: ['wait_for'],
      }),
    outputSchema: TaskStatusOutputSchema,
    annotations: { readOnlyHint: true, idempotentHint: true },
    asksCaller: true,
    showsBoard: true,
    usage:
      `task_status takes { task_id: "t_..." } or { task_ids: ["t_..."], wait_for?: "any"|"all" }, plus ` +
      `wait_s?: 0-${limits.maxWaitS}, cursor?: number, tail?: 0-200`,
    async handle(input, ctx) {
      const { tasks } = ctx;
      const wait = { waitS: input.wait_s ?? 0, signal: ctx.signal, progress: ctx.progress, viewer: ctx.viewer };
      if (input.task_ids)
        return tasks.statusMany(input.task_ids, { ...wait, waitFor: input.wait_for ?? 'any', tail: input.tail ?? 10 });
      return tasks.status(input.task_id!, { ...wait, cursor: input.cursor, tail: input.tail ?? 10 });
    },
  });

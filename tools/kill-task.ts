import { z } from 'zod';
import { KillTaskOutputSchema } from '../src/engine.js';
import { defineTool } from './define-tool.js';
import { compareStatusText } from './compare-tiers.js';
import { CompareIdField, TaskIdField } from './fields.js';

// Stops a task and its whole process tree, or a comparison and the task it runs; safe to call twice.
export const killTaskTool = defineTool({
  name: 'kill_task',
  title: 'Kill task',
  description:
    'Stop a task and every process it started (claude, its tools, their children). A queued task is removed ' +
    'from the queue. Idempotent: killing a finished task returns its final status. Returns the partial output. ' +
    'With compare_id instead: stop a compare_tiers comparison (its running task is killed, the runs done so ' +
    'far are reported).',
  inputSchema: z
    .strictObject({
      task_id: TaskIdField.optional(),
      compare_id: CompareIdField.optional().describe(
        'A comparison to stop, as compare_tiers returned it (instead of task_id).',
      ),
      reason: z
        .string({ error: 'reason must be a string' })
        .max(500, 'reason must be at most 500 characters')
        .optional()
        .describe('Recorded with the kill.'),
    })
    .refine((v) => v.task_id !== undefined || v.compare_id !== undefined, {
      message: 'task_id is required: pass an id returned by deep_task (or compare_id, to stop a comparison)',
      path: ['task_id'],
    })
    .refine((v) => v.task_id === undefined || v.compare_id === undefined, {
      message: 'pass task_id or compare_id, not both',
      path: ['compare_id'],
    }),
  outputSchema: KillTaskOutputSchema,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  usage: 'kill_task takes { task_id: "t_..." } or { compare_id: "c_..." }, plus reason?: string',
  async handle(input, ctx) {
    const by = `kill_task${input.reason ? ` (${input.reason})` : ''}`;
    if (input.task_id !== undefined) return ctx.tasks.kill(input.task_id, by, { viewer: ctx.viewer });
    const status = await ctx.compare.cancel(input.compare_id!, by, ctx.viewer);
    return { text: compareStatusText(status), structured: status };
  },
});

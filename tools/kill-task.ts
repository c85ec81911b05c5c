import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { TaskIdField } from './fields.js';

// Stops a task and its whole process tree; safe to call twice.
export const killTaskTool = defineTool({
  name: 'kill_task',
  title: 'Kill task',
  description:
    'Stop a task and every process it started (claude, its tools, their children). A queued task is removed from the queue. ' +
    'Idempotent: killing a finished task returns its final status. Returns the partial output.',
  inputSchema: z.strictObject({
    task_id: TaskIdField,
    reason: z.string({ error: 'reason must be a string' }).max(500, 'reason must be at most 500 characters').optional().describe('Recorded with the kill.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  usage: 'kill_task takes { task_id: "t_..." (required), reason?: string }',
  handle: (input, ctx) => ctx.engine.registry.kill(input.task_id, `kill_task${input.reason ? ` (${input.reason})` : ''}`, { viewer: ctx.viewer }),
});

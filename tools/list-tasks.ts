import { z } from 'zod';
import { TASK_STATES, type TaskState } from '../src/engine.js';
import { defineTool } from './define-tool.js';

const State = z.enum(TASK_STATES, { error: `state must be one of ${TASK_STATES.join(', ')}` });

// Recent tasks, newest first, so a parent agent can find what it started.
export const listTasksTool = defineTool({
  name: 'list_tasks',
  title: 'List tasks',
  description:
    'Recent tasks, newest first, optionally filtered by state, with a one-line progress each and the counts ' +
    'running/queued.',
  inputSchema: z.strictObject({
    state: z
      .union([State, z.array(State).min(1, 'state must not be an empty list')])
      .optional()
      .describe('Only tasks in this state (or any of these states).'),
    limit: z
      .number({ error: 'limit must be a number' })
      .int('limit must be a whole number')
      .min(1, 'limit must be >= 1')
      .max(200, 'limit must be at most 200')
      .optional()
      .describe('How many tasks (default 20).'),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  showsBoard: true,
  usage: 'list_tasks takes { state?: "running" | ["running","queued"] , limit?: 1-200 }',
  async handle(input, ctx) {
    const states: TaskState[] | undefined =
      input.state === undefined ? undefined : Array.isArray(input.state) ? input.state : [input.state];
    return ctx.tasks.listReply({ state: states, limit: input.limit ?? 20, viewer: ctx.viewer });
  },
});

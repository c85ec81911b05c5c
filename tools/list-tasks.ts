import { z } from 'zod';
import type { TaskState } from '../src/tasks/types.js';
import { formatProgress } from '../src/tasks/progress.js';
import { defineTool } from './define-tool.js';

const State = z.enum(['queued', 'running', 'succeeded', 'failed', 'killed', 'timed_out', 'lost'], {
  error: 'state must be one of queued, running, succeeded, failed, killed, timed_out, lost',
});

// Recent tasks, newest first, so a parent agent can find what it started.
export const listTasksTool = defineTool({
  name: 'list_tasks',
  title: 'List tasks',
  description: 'Recent tasks, newest first, optionally filtered by state, with a one-line progress each and the counts running/queued.',
  inputSchema: z.strictObject({
    state: z.union([State, z.array(State).min(1, 'state must not be an empty list')]).optional().describe('Only tasks in this state (or any of these states).'),
    limit: z.number({ error: 'limit must be a number' }).int('limit must be a whole number').min(1, 'limit must be >= 1').max(200, 'limit must be at most 200').optional().describe('How many tasks (default 20).'),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  usage: 'list_tasks takes { state?: "running" | ["running","queued"] , limit?: 1-200 }',
  async handle(input, ctx) {
    const { registry } = ctx.engine;
    const states = input.state === undefined ? undefined : ((Array.isArray(input.state) ? input.state : [input.state]) as TaskState[]);
    const now = Date.now();
    const tasks = registry.list({ state: states, limit: input.limit ?? 20 }).map((r) => ({
      task_id: r.id,
      state: r.state,
      tier: r.request.tier,
      created_at: new Date(r.createdAt).toISOString(),
      progress: formatProgress(r, r.endedAt ?? now),
      prompt_preview: r.request.prompt.replace(/\s+/g, ' ').slice(0, 80),
      cost_usd: r.stats.costUsd,
      end_reason: r.end?.reason,
    }));
    const summary = { running: registry.runningCount, queued: registry.queuedCount, peak_running: registry.peakRunning };
    const text = [
      `${summary.running} running, ${summary.queued} queued on this server; ${tasks.length} task(s) listed`,
      ...tasks.map((t) => `${t.task_id}  ${t.state.padEnd(9)}  ${t.progress}  "${t.prompt_preview}"`),
    ].join('\n');
    return { text, structured: { summary, tasks } };
  },
});

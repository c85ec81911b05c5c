import { z } from 'zod';
import { ToolError } from '../src/errors.js';
import { startProgressPump } from '../src/tasks/progress-pump.js';
import { isFinal, type TaskRecord } from '../src/tasks/types.js';
import { taskView, viewText, type TaskView } from '../src/tasks/view.js';
import { defineTool } from './define-tool.js';
import { eventsLink } from '../src/resources.js';
import { TaskIdField, WaitField } from './fields.js';

// State, progress, partial output and result of one task or several, with long-poll.
export const taskStatusTool = defineTool({
  name: 'task_status',
  title: 'Task status',
  description:
    'State, progress, recent events, partial output and the final result of a deep_task. With wait_s it long-polls: it returns as soon as ' +
    'the state changes or new events arrive (after `cursor`), else after wait_s. With task_ids and wait_for ("any" | "all") it waits on several tasks at once.',
  inputSchema: z
    .strictObject({
      task_id: TaskIdField.optional(),
      task_ids: z.array(TaskIdField, { error: 'task_ids must be an array of task ids' }).min(1, 'task_ids must not be empty').max(50, 'task_ids takes at most 50 ids').optional(),
      wait_for: z.enum(['any', 'all'], { error: 'wait_for must be "any" or "all"' }).optional().describe('With task_ids: return when any / all of them have finished.'),
      wait_s: WaitField.optional().describe('Long-poll for up to this many seconds (0-60, default 0).'),
      cursor: z.number({ error: 'cursor must be a number' }).int('cursor must be a whole number').min(0, 'cursor must be >= 0').optional().describe('Return events after this sequence number (from a previous status\'s cursor).'),
      tail: z.number({ error: 'tail must be a number' }).int('tail must be a whole number').min(0, 'tail must be >= 0').max(200, 'tail must be at most 200').optional().describe('How many recent events to include (default 10).'),
    })
    .refine((v) => (v.task_id === undefined) !== (v.task_ids === undefined), { message: 'pass exactly one of task_id or task_ids', path: ['task_id'] })
    .refine((v) => v.wait_for === undefined || v.task_ids !== undefined, { message: 'wait_for goes with task_ids', path: ['wait_for'] }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  usage: 'task_status takes { task_id: "t_..." } or { task_ids: ["t_..."], wait_for?: "any"|"all" }, plus wait_s?: 0-60, cursor?: number, tail?: 0-200',
  async handle(input, ctx) {
    const { registry } = ctx.engine;
    const ids = input.task_ids ?? [input.task_id!];
    const records: TaskRecord[] = [];
    for (const id of ids) {
      const rec = await registry.refreshForeign(id);
      if (!rec) throw new ToolError(`task_id: no task ${id}; ${registry.recentIdsHint()}`);
      records.push(rec);
    }
    const waitMs = (input.wait_s ?? 0) * 1000;
    const current = (id: string) => registry.getRecord(id);
    if (waitMs > 0) {
      if (input.task_ids) {
        const mode = input.wait_for ?? 'any';
        const done = (id: string) => isFinal(current(id)?.state ?? 'lost');
        await registry.waitUntil(ids, () => (mode === 'all' ? ids.every(done) : ids.some(done)), waitMs, ctx.signal);
      } else {
        const id = ids[0]!;
        const live = registry.getLive(id);
        const startState = records[0]!.state;
        const baseSeq = input.cursor ?? live?.seq ?? records[0]!.stats.events;
        const pump = live ? startProgressPump(live, ctx.progress) : undefined;
        await registry.waitUntil(
          [id],
          () => {
            const rec = current(id);
            if (!rec || isFinal(rec.state) || rec.state !== startState) return true;
            const seq = registry.getLive(id)?.seq ?? rec.stats.events;
            return seq > baseSeq;
          },
          waitMs,
          ctx.signal,
        );
        await pump?.stop();
      }
    }
    const views: TaskView[] = [];
    for (const id of ids) {
      const rec = current(id)!;
      views.push(await taskView(registry.store, rec, registry.getLive(id), { cursor: input.cursor, tail: input.tail ?? 10 }));
    }
    const links = views.map((v) => eventsLink(v.task_id));
    if (!input.task_ids) return { text: viewText(views[0]!), structured: views[0] as unknown as Record<string, unknown>, links };
    const finished = views.filter((v) => v.final).map((v) => v.task_id);
    const text = [`${finished.length}/${views.length} finished`, ...views.map((v) => viewText(v))].join('\n\n');
    return { text, structured: { finished, tasks: views }, links };
  },
});

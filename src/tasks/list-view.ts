import { formatProgress } from './progress.js';
import type { TaskRecord } from './types.js';

// One row of list_tasks.
export interface TaskRow {
  task_id: string;
  state: string;
  tier: string;
  created_at: string;
  progress: string;
  prompt_preview: string;
  cost_usd: number;
  end_reason?: string;
}

// list_tasks as text and structured content: the counts, then one line per task, newest first.
export function listReply(
  records: ReadonlyArray<Readonly<TaskRecord>>,
  summary: { running: number; queued: number; peak_running: number },
  now = Date.now(),
): { text: string; structured: Record<string, unknown> } {
  const tasks: TaskRow[] = records.map((r) => ({
    task_id: r.id,
    state: r.state,
    tier: r.request.tier,
    created_at: new Date(r.createdAt).toISOString(),
    progress: formatProgress(r, r.endedAt ?? now),
    prompt_preview: r.request.prompt.replace(/\s+/g, ' ').slice(0, 80),
    cost_usd: r.stats.costUsd,
    end_reason: r.end?.reason,
  }));
  const text = [
    `${summary.running} running, ${summary.queued} queued on this server; ${tasks.length} task(s) listed`,
    ...tasks.map((t) => `${t.task_id}  ${t.state.padEnd(9)}  ${t.progress}  "${t.prompt_preview}"`),
  ].join('\n');
  return { text, structured: { summary, tasks } };
}

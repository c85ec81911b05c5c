import type { Scheduler } from './scheduler.js';
import { isFinal, type TaskRecord, type TaskState, type Viewer } from './types.js';

// How many of a principal's newest tasks its own counts are taken from.
const OWN_SCAN = 2000;

// A principal's own tasks, as server_stats shows them to it (running counts needs_input too), and its fair share now:
// running slots before it waits behind others, queue places it may hold.
export interface OwnCounts {
  principal: string;
  running: number;
  queued: number;
  finished: Record<string, number>;
  share: { running: number; queue: number };
}

type ListTasks = (options: { state?: TaskState[]; limit?: number; viewer?: Viewer }) => Promise<TaskRecord[]>;

// Counts one principal's own tasks (never another's, even for an admin) over its newest ones, with its fair share
// of this server's slots and queue.
export async function ownCounts(viewer: Viewer, list: ListTasks, scheduler: Scheduler): Promise<OwnCounts> {
  const own = await list({ viewer: { principal: viewer.principal, admin: false }, limit: OWN_SCAN });
  const finished: Record<string, number> = {};
  let running = 0;
  let queued = 0;
  for (const r of own) {
    if (r.state === 'queued') queued++;
    else if (!isFinal(r.state)) running++;
    else finished[r.state] = (finished[r.state] ?? 0) + 1;
  }
  const share = scheduler.countsOf(viewer.principal);
  const shares = { running: share.runningShare, queue: share.queueShare };
  return { principal: viewer.principal, running, queued, finished, share: shares };
}

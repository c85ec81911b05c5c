import type { UserContent } from '../../claude/control.js';
import type { Admission, TaskHost } from '../backend.js';
import type { LiveTask } from '../live-task.js';
import type { TaskRecord } from '../types.js';
import type { Cluster } from './cluster.js';
import { HandBack } from './hand-back.js';
import type { JobInfo } from './job-queue.js';

// How long a queued task may go untaken (every server refused it, or its record never came) before it ends.
const GIVE_UP_MS = 60_000;

// What a job's run checks besides the host's admission.
export interface JobLimits {
  maxDepth: number;
  allowedRoots: string[];
}

// One job of the shared queue. The claim makes this server the task's one runner; a task killed while it waited, or
// claimed by another server, is left alone. A server that cannot take the task now (it shuts down, the model's
// circuit is open here, the cwd is outside its roots) hands the job back for another; a task that nobody took for a
// minute ends with the reason.
export async function runJob(
  cluster: Cluster,
  host: TaskHost,
  limits: JobLimits,
  id: string,
  info: JobInfo,
): Promise<void> {
  if (host.closing()) throw new HandBack('this server is shutting down');
  const queued = await cluster.records.read(id);
  // The job is added before its record: one still missing after a minute was never written (its enqueue failed).
  if (!queued)
    return Date.now() - info.queuedAt < GIVE_UP_MS
      ? Promise.reject(new HandBack('its record is not there yet'))
      : undefined;
  if (queued.state !== 'queued') return;
  if ((queued.request.depth ?? 0) >= limits.maxDepth)
    return refuse(
      cluster,
      host,
      queued,
      `it comes from depth ${queued.request.depth} and maxDepth is ${limits.maxDepth}; recursion is not allowed`,
    );
  let admission: Admission;
  try {
    // Its request resolved here, against this server's tiers and roots; budgets: what this server's own tasks in flight
    // hold back counts here (reservations are not shared).
    admission = await host.admit(queued);
  } catch (err) {
    if (Date.now() - queued.createdAt < GIVE_UP_MS) throw new HandBack((err as Error).message);
    return refuse(cluster, host, queued, (err as Error).message);
  }
  let task: LiveTask | undefined;
  try {
    const record: TaskRecord = { ...queued, owner: host.owner, state: 'running', updatedAt: Date.now() };
    if (!(await cluster.claim(record))) {
      if ((await cluster.records.read(id).catch(() => undefined))?.state === 'queued')
        throw new HandBack('its claim was not confirmed');
      return;
    }
    if (host.closing()) {
      // Shut down while claiming: the task goes back to the queue as it was.
      await cluster.records.put(queued, ['running'], host.owner.serverId);
      throw new HandBack('this server is shutting down');
    }
    task = host.launch(
      record,
      admission,
      (await cluster.records.takeContent(id).catch(() => undefined)) as UserContent | undefined,
    );
  } finally {
    // A ticket and a budget hold not handed to a run (the claim went to another server, or failed) are released here.
    if (!task) {
      admission.ticket.report({ kind: 'neutral' });
      admission.hold.settle();
    }
  }
  if ((await cluster.killRequests([id])).length)
    void task.stop({ reason: 'killed', by: 'another server', message: 'killed as it started; partial output kept' });
  await task.done;
}

// A task no server could take ends here, with the reason.
async function refuse(cluster: Cluster, host: TaskHost, queued: TaskRecord, why: string): Promise<void> {
  const now = Date.now();
  const end = { reason: 'error' as const, message: `no server could run it: ${why}` };
  await cluster.records.put({ ...queued, owner: host.owner, state: 'failed', end, endedAt: now, updatedAt: now }, [
    'queued',
  ]);
}

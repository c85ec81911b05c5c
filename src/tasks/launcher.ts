import { hostname } from 'node:os';
import type { UserContent } from '../claude/control.js';
import { processStartTime } from '../claude/terminate/index.js';
import type { Cluster } from '../cluster/cluster.js';
import { HandBack } from '../cluster/hand-back.js';
import type { JobInfo } from '../cluster/job-queue.js';
import type { BreakerTicket } from '../guards/breaker.js';
import type { BudgetHold } from '../cost/spending.js';
import { getTier } from '../tiers.js';
import { resolveCwd } from '../cwd.js';
import { ToolError } from '../errors.js';
import type { RepoLocks } from '../isolation/repo-locks.js';
import type { RunDeps } from '../run-deps.js';
import type { SparePool } from '../spares/spare-pool.js';
import { ChangeHub } from './change-hub.js';
import { LiveTask } from './live-task.js';
import { newTaskRecord, type SubmitRequest } from './new-task.js';
import type { RecordWriter } from './record-writer.js';
import type { Scheduler } from './scheduler.js';
import type { TaskStore } from './store.js';
import type { TaskLookup } from './task-lookup.js';
import type { Notifier } from '../notify/notifier.js';
import { runTask } from './task-runner.js';
import { ownCounts, type OwnCounts } from './own-counts.js';
import { LOCAL_PRINCIPAL, type TaskRecord, type Viewer } from './types.js';

// How long a queued task may go untaken (every server refused it, or its record never came) before it ends.
const GIVE_UP_MS = 60_000;

// What starting tasks takes: the registry's parts.
export interface LauncherParts {
  deps: RunDeps & { serverId: string; spares: SparePool; cluster?: Cluster; notifier?: Notifier };
  store: TaskStore;
  live: Map<string, LiveTask>;
  scheduler: Scheduler;
  writer: RecordWriter;
  locks: RepoLocks;
  lookup: TaskLookup;
  /** The server is shutting down: nothing new starts. */
  closing(): boolean;
  /** A task ended (the registry trims what it keeps in memory). */
  ended(): void;
}

// The write side of the registry: a new task's record from a request, and its start on this server, or, in a
// cluster, its trip through the shared queue to the worker that claims it.
export class Launcher {
  readonly owner: TaskRecord['owner'];
  /** Every change of a task this server runs (the registry's feed of all changes). */
  readonly changes = new ChangeHub();

  constructor(private readonly p: LauncherParts) {
    this.owner = { serverId: p.deps.serverId, pid: process.pid, startTime: processStartTime(process.pid), host: hostname() };
  }

  private newRecord(req: SubmitRequest, hint: string): TaskRecord {
    if (this.p.closing()) throw new ToolError('the server is shutting down; no new tasks are accepted');
    return newTaskRecord(req, { config: this.p.deps.config, owner: this.owner, findRecord: (id, viewer) => this.p.lookup.visible(id, viewer), recentIdsHint: () => hint, costs: this.p.deps.spending.costs });
  }

  private audited(record: TaskRecord, req: SubmitRequest): void {
    this.p.deps.audit.write('task_submitted', { task_id: record.id, tier: record.request.tier, model: record.request.model, cwd: record.request.cwd, prompt: this.p.deps.audit.prompt(req.prompt), client: req.clientId, routed: record.routed, continue_of: req.continueTaskId });
  }

  // Creates the task and runs it on this server.
  async submit(req: SubmitRequest, content?: UserContent): Promise<LiveTask> {
    const hint = req.continueTaskId ? await this.p.lookup.recentIdsHint({ principal: req.principal ?? LOCAL_PRINCIPAL, admin: false }) : '';
    const record = this.newRecord(req, hint);
    if (this.p.deps.config.limits.maxRunning === 0) throw new ToolError('this server runs no tasks itself (limits.maxRunning 0, a front end of a cluster); submit through deep_task, which queues it for the workers');
    this.p.deps.claudeBinary();
    this.p.scheduler.checkRoom(record.principal ?? LOCAL_PRINCIPAL);
    // The principal's budget holds back the task's estimate until the task ends (its runner settles it).
    const hold = this.reserve(record);
    let task: LiveTask | undefined;
    try {
      this.audited(record, req);
      task = this.launch(record, hold, content);
      return task;
    } finally {
      // A hold not handed to a run is released here.
      if (!task) hold.settle();
    }
  }

  // A principal's own tasks (over its newest ones) and its fair share of this server's slots and queue now.
  countsOf(viewer: Viewer): Promise<OwnCounts> {
    return ownCounts(viewer, (options) => this.p.lookup.list(options), this.p.scheduler);
  }

  // Admits a task against its principal's daily budget and holds back its estimated cost.
  private reserve(record: TaskRecord): BudgetHold {
    const { tier, model, prompt, maxBudgetUsd } = record.request;
    const cap = maxBudgetUsd ?? getTier(this.p.deps.config, tier).maxBudgetUsd;
    return this.p.deps.spending.reserve(record.principal ?? LOCAL_PRINCIPAL, { tier, model, promptChars: prompt.length, maxBudgetUsd: cap });
  }

  // Cluster: checks the request here, then puts the task in the shared queue for whichever worker is free.
  async enqueue(cluster: Cluster, req: SubmitRequest, content?: UserContent): Promise<string> {
    const { deps } = this.p;
    // The recursion guard holds through the queue: past maxDepth this throws, and the depth travels with the task.
    if (deps.depth >= deps.config.maxDepth) deps.claudeBinary();
    if (req.continueTaskId) await this.p.lookup.record(req.continueTaskId);
    const hint = req.continueTaskId ? await this.p.lookup.recentIdsHint({ principal: req.principal ?? LOCAL_PRINCIPAL, admin: false }) : '';
    const record = this.newRecord(req, hint);
    if (deps.depth > 0) record.request.depth = deps.depth;
    // The shared queue's fair share per principal is checked as the task is queued (cluster/queue-shares.ts).
    await cluster.enqueue(record, content);
    this.audited(record, req);
    return record.id;
  }

  // Cluster: one job of the shared queue. The claim makes this server the task's one runner; a task killed while it
  // waited, or claimed by another server, is left alone. A server that cannot take the task now (it shuts down, the
  // model's circuit is open here, the cwd is outside its roots) hands the job back for another; a task that nobody
  // took for a minute ends with the reason.
  async runJob(cluster: Cluster, id: string, info: JobInfo): Promise<void> {
    if (this.p.closing()) throw new HandBack('this server is shutting down');
    const queued = await cluster.records.read(id);
    // The job is added before its record: one still missing after a minute was never written (its enqueue failed).
    if (!queued) return Date.now() - info.queuedAt < GIVE_UP_MS ? Promise.reject(new HandBack('its record is not there yet')) : undefined;
    if (queued.state !== 'queued') return;
    const { deps } = this.p;
    if ((queued.request.depth ?? 0) >= deps.config.maxDepth) return this.refuse(cluster, queued, `it comes from depth ${queued.request.depth} and maxDepth is ${deps.config.maxDepth}; recursion is not allowed`);
    let ticket: BreakerTicket;
    let hold: BudgetHold | undefined;
    try {
      resolveCwd(queued.request.cwd, deps.config.allowedRoots);
      // Budgets: what tasks in flight hold back, here and (refreshed each second) on the other servers, counts here.
      hold = this.reserve(queued);
      ticket = deps.breakers.admit(`${queued.request.tier}:${queued.request.model}`);
    } catch (err) {
      hold?.settle();
      if (Date.now() - queued.createdAt < GIVE_UP_MS) throw new HandBack((err as Error).message);
      return this.refuse(cluster, queued, (err as Error).message);
    }
    let task: LiveTask | undefined;
    try {
      const record: TaskRecord = { ...queued, owner: this.owner, state: 'running', updatedAt: Date.now() };
      if (!(await cluster.claim(record))) {
        if ((await cluster.records.read(id).catch(() => undefined))?.state === 'queued') throw new HandBack('its claim was not confirmed');
        return;
      }
      if (this.p.closing()) {
        // Shut down while claiming: the task goes back to the queue as it was.
        await cluster.records.put(queued, ['running'], this.owner.serverId);
        throw new HandBack('this server is shutting down');
      }
      task = this.launch(record, hold, (await cluster.records.takeContent(id).catch(() => undefined)) as UserContent | undefined, ticket);
    } finally {
      // A ticket and a budget hold not handed to a run (the claim went to another server, or failed) are released here.
      if (!task) {
        ticket.report({ kind: 'neutral' });
        hold.settle();
      }
    }
    if ((await cluster.killRequests([id])).length) void task.stop({ reason: 'killed', by: 'another server', message: 'killed as it started; partial output kept' });
    await task.done;
  }

  // A task no server could take ends here, with the reason.
  private async refuse(cluster: Cluster, queued: TaskRecord, why: string): Promise<void> {
    const now = Date.now();
    const end = { reason: 'error' as const, message: `no server could run it: ${why}` };
    await cluster.records.put({ ...queued, owner: this.owner, state: 'failed', end, endedAt: now, updatedAt: now }, ['queued']);
  }

  // Runs a task here; the breaker ticket it takes and its budget hold are released by the runner, whatever happens.
  private launch(record: TaskRecord, hold: BudgetHold, content?: UserContent, ticket = this.p.deps.breakers.admit(`${record.request.tier}:${record.request.model}`)): LiveTask {
    const { deps, store, writer } = this.p;
    const cluster = deps.cluster;
    const task = new LiveTask(record, deps.config.limits.eventRingSize, content, cluster && ((seq, text) => cluster.event(record.id, seq, text)));
    this.p.live.set(record.id, task);
    // The webhook hears of this task's states from the server that runs it (once each, whichever server was asked).
    const notifier = deps.notifier;
    if (notifier) task.onChange(() => notifier.observe(task.record));
    task.onChange(() => this.changes.emit(record.id));
    this.changes.emit(record.id);
    void store.markActive(record.id, process.pid).catch((err: unknown) => task.noteStoreError((err as Error).message));
    void writer.save(task, true);
    const runner = { ...deps, store, scheduler: this.p.scheduler, locks: this.p.locks, save: (t: LiveTask, now?: boolean) => writer.save(t, now) };
    void runTask(task, { ticket, hold }, runner).finally(() => this.p.ended());
    return task;
  }
}

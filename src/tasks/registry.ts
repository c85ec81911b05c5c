import { ToolError } from '../errors.js';
import type { UserContent } from '../claude/control.js';
import { processStartTime } from '../claude/terminate/index.js';
import { stopTimings, type RunDeps } from '../run-deps.js';
import { requestKill, watchKillRequests } from './kill-requests.js';
import { listReply } from './list-view.js';
import { LiveTask } from './live-task.js';
import { newTaskRecord, requestContent, type SubmitRequest } from './new-task.js';
import { startProgressPump, type ProgressSend } from './progress-pump.js';
import { RecordWriter } from './record-writer.js';
import { markLost, ownerAlive, recoverOrphans, schedulePrune } from './recovery.js';
import { Scheduler } from './scheduler.js';
import type { SparePool } from '../spares/spare-pool.js';
import { RepoLocks } from '../isolation/repo-locks.js';
import { TaskStore } from './store.js';
import { runTask } from './task-runner.js';
import { isFinal, visibleTo, type TaskRecord, type TaskState, type Viewer } from './types.js';
import { statusMany, type ManyReply } from './status-many.js';
import { taskReply, type TaskReply } from './view.js';
import type { InputAnswer } from './input-requests.js';
import { waitUntil } from './waiters.js';

const KEEP_FINISHED_IN_MEMORY = 300;
const DEFAULT_TAIL = 10;
// A listing reads at most this many records: a principal with few tasks must not make every call read the whole store.
const MAX_SCANNED = 2000;

// Who asks, how long to wait for a task and how to report progress meanwhile.
export interface WaitOptions {
  /** The caller: it sees and acts only on its own tasks (undefined: the server itself). */
  viewer?: Viewer;
  waitS?: number;
  signal?: AbortSignal;
  progress?: ProgressSend;
}

// The tasks of one server, behind intent-level calls: start, status, list, kill. Queue, store, waiters and runs
// are its parts; no caller reaches into them.
export class Registry {
  private readonly store: TaskStore;
  private readonly live = new Map<string, LiveTask>();
  private readonly scheduler: Scheduler;
  private readonly writer: RecordWriter;
  private readonly owner: TaskRecord['owner'];
  private readonly locks = new RepoLocks();
  /** Foreign tasks being declared lost now: one recovery per task, however many callers ask. */
  private readonly losing = new Map<string, Promise<TaskRecord>>();
  private stopKillPoll: () => void = () => {};
  private closing = false;

  private constructor(private readonly deps: RunDeps & { serverId: string; spares: SparePool }) {
    this.store = new TaskStore(deps.config.stateDir);
    this.scheduler = new Scheduler(deps.config.limits);
    this.writer = new RecordWriter(this.store, (task, err) => {
      const message = (err as Error)?.message ?? String(err);
      if (task.noteStoreError(message)) deps.log.warn({ task: task.id, err: message }, 'cannot write task state to disk; the task goes on in memory');
    });
    this.owner = { serverId: deps.serverId, pid: process.pid, startTime: processStartTime(process.pid) };
  }

  // Opens the state dir, declares tasks of dead servers lost, prunes old tasks in the background, takes kill requests.
  static async open(deps: RunDeps & { serverId: string; spares: SparePool }): Promise<Registry> {
    const registry = new Registry(deps);
    await recoverOrphans(registry.store, deps.log, registry.locks);
    schedulePrune(registry.store, deps.config.limits, (id) => registry.live.has(id), deps.log);
    registry.stopKillPoll = watchKillRequests(deps.config.stateDir, (id) => !!registry.live.get(id) && !isFinal(registry.live.get(id)!.record.state), (id, by) => void registry.kill(id, by));
    return registry;
  }

  get counts(): { running: number; queued: number; peak_running: number } { return { running: this.scheduler.runningCount, queued: this.scheduler.queuedCount, peak_running: this.scheduler.peakRunning }; }

  // Starts a task (or queues it), then follows it; every input problem (images included) is a ToolError first.
  async start(req: SubmitRequest, wait: WaitOptions = {}): Promise<TaskReply> {
    return this.follow(this.submit(req, await requestContent(req, this.deps.config.allowedRoots)).id, wait);
  }

  // Waits up to waitS for a task to finish or to need its caller's input, then replies with its status.
  async follow(id: string, wait: WaitOptions = {}): Promise<TaskReply> {
    await this.get(id, wait.viewer);
    const task = this.live.get(id);
    if (task && (wait.waitS ?? 0) > 0) {
      const pump = startProgressPump(task, wait.progress);
      await this.wait([id], () => isFinal(task.record.state) || task.record.state === 'needs_input', wait.waitS! * 1000, wait.signal);
      await pump.stop();
    }
    return this.reply(id, { tail: DEFAULT_TAIL, viewer: wait.viewer });
  }

  // Creates the task and hands it to its runner; the breaker ticket it takes is released by the runner, whatever happens.
  submit(req: SubmitRequest, content?: UserContent): LiveTask {
    if (this.closing) throw new ToolError('the server is shutting down; no new tasks are accepted');
    const record = newTaskRecord(req, { config: this.deps.config, owner: this.owner, findRecord: (id, viewer) => this.visible(id, viewer), recentIdsHint: () => this.recentIdsHint({ principal: req.principal ?? 'local', admin: false }), costs: this.deps.spending.costs });
    this.deps.claudeBinary();
    this.scheduler.checkRoom();
    const ticket = this.deps.breakers.admit(`${record.request.tier}:${record.request.model}`);
    const task = new LiveTask(record, this.deps.config.limits.eventRingSize, content);
    this.deps.audit.write('task_submitted', { task_id: record.id, tier: record.request.tier, model: record.request.model, cwd: record.request.cwd, prompt: this.deps.audit.prompt(req.prompt), client: req.clientId, routed: record.routed, continue_of: req.continueTaskId });
    this.live.set(record.id, task);
    void this.store.markActive(record.id, process.pid).catch((err: unknown) => task.noteStoreError((err as Error).message));
    void this.writer.save(task, true);
    const deps = { ...this.deps, store: this.store, scheduler: this.scheduler, locks: this.locks, save: (t: LiveTask, now?: boolean) => this.writer.save(t, now) };
    void runTask(task, ticket, deps).finally(() => this.evictFinished());
    return task;
  }

  // A task's status, after waiting up to waitS for a change (a new event or state) when asked to.
  async status(id: string, opts: WaitOptions & { cursor?: number; tail?: number } = {}): Promise<TaskReply> {
    const first = await this.get(id, opts.viewer);
    if ((opts.waitS ?? 0) > 0) {
      const live = this.live.get(id);
      const baseSeq = opts.cursor ?? live?.seq ?? first.stats.events;
      const pump = live ? startProgressPump(live, opts.progress) : undefined;
      const changed = (rec = this.peek(id)) => !rec || isFinal(rec.state) || rec.state !== first.state || (this.live.get(id)?.seq ?? rec.stats.events) > baseSeq;
      await this.wait([id], () => changed(), opts.waitS! * 1000, opts.signal);
      await pump?.stop();
    }
    // Without a wait, the record just read is the one to show (one read of the store per call).
    return this.reply(id, { cursor: opts.cursor, tail: opts.tail, viewer: opts.viewer }, (opts.waitS ?? 0) > 0 ? undefined : first);
  }

  // Several tasks at once, after waiting up to waitS for any or all of them to finish.
  statusMany = (ids: string[], opts: WaitOptions & { waitFor?: 'any' | 'all'; tail?: number } = {}): Promise<ManyReply> => statusMany(this, ids, opts);

  // Answers a task's open question (answer_task): only the task's owner, only an open request, once.
  async answer(id: string, requestId: string, answer: InputAnswer, viewer?: Viewer): Promise<TaskReply> {
    await this.get(id, viewer);
    const task = this.live.get(id);
    if (!task) throw new ToolError(`task_id: task ${id} is not running on this server; it cannot take an answer here`);
    if (task.stopped) throw new ToolError(`task_id: task ${id} is being stopped (${task.stopped.reason}); its open request was denied`);
    task.inputs.give(id, requestId, answer);
    await new Promise((r) => setImmediate(r));
    return this.reply(id, { tail: DEFAULT_TAIL, viewer });
  }

  // Recent tasks, newest first, as list_tasks shows them.
  listReply(options: { state?: TaskState[]; limit?: number; viewer?: Viewer } = {}): { text: string; structured: Record<string, unknown> } {
    return listReply(this.list(options), this.counts);
  }

  // Newest first; live tasks of this server plus everything on disk.
  list(options: { state?: TaskState[]; limit?: number; viewer?: Viewer } = {}): TaskRecord[] {
    const limit = options.limit ?? 20;
    const wanted = (r: TaskRecord) => (!options.state || options.state.includes(r.state)) && visibleTo(r, options.viewer);
    const out: TaskRecord[] = [];
    for (const id of this.store.listIds().slice(0, MAX_SCANNED)) {
      const rec = this.peek(id);
      if (rec && wanted(rec)) out.push(rec);
      if (out.length >= limit) break;
    }
    for (const t of this.live.values()) if (!out.some((r) => r.id === t.id) && wanted(t.record)) out.push(t.record);
    return out.sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, limit);
  }

  // Stops a task and everything it started; idempotent; the reply carries the partial output.
  async kill(id: string, by: string, opts: { message?: string; viewer?: Viewer } = {}): Promise<TaskReply> {
    await this.get(id, opts.viewer);
    const task = this.live.get(id);
    if (!task) {
      const rec = await this.get(id);
      if (!isFinal(rec.state)) throw new ToolError(`task ${id} belongs to another claude-tiers server (pid ${rec.owner.pid}) that is still running; kill it from that server's client`);
    } else if (!isFinal(task.record.state)) {
      this.deps.audit.write('task_kill', { task_id: id, by });
      await task.stop({ reason: 'killed', by, message: opts.message ?? `killed by ${by}; partial output kept` });
      await task.done;
    }
    return this.reply(id, { tail: DEFAULT_TAIL, viewer: opts.viewer });
  }

  // Kill for any task of the state dir: this server's at once, another live server's through a kill request.
  async cancel(id: string, by: string): Promise<void> {
    const rec = await this.record(id);
    if (!rec || isFinal(rec.state)) return;
    if (this.live.has(id)) await this.kill(id, by);
    else await requestKill(this.deps.config.stateDir, id, by);
  }

  // A task's record; a foreign unfinished task whose server died is declared lost on the way.
  async record(id: string, record = this.peek(id)): Promise<TaskRecord | undefined> {
    if (!record || this.live.has(id) || isFinal(record.state) || ownerAlive(record)) return record;
    const losing = this.losing.get(id) ?? markLost(this.store, record, this.deps.log, this.locks).finally(() => this.losing.delete(id));
    this.losing.set(id, losing);
    return losing;
  }

  // A task's record as it stands, from memory or disk, without side effects.
  peek = (id: string): TaskRecord | undefined => (this.live.get(id)?.record as TaskRecord | undefined) ?? this.store.readRecord(id);

  // The reply for one task as it stands.
  async reply(id: string, opts: { cursor?: number; tail?: number; isError?: boolean; viewer?: Viewer } = {}, known?: TaskRecord): Promise<TaskReply> {
    const rec = known ?? (await this.get(id, opts.viewer));
    const reply = await taskReply(this.store, rec, this.live.get(id), { cursor: opts.cursor, tail: opts.tail ?? DEFAULT_TAIL });
    return opts.isError === undefined ? reply : { ...reply, isError: opts.isError };
  }

  // The text block claude is writing now, for a live task.
  writingOf = (id: string): { chars: number } | undefined => this.live.get(id)?.writing;

  // Wakes `listener` on every change of a live task; returns the unsubscribe (a no-op for other tasks).
  onChange = (id: string, listener: () => void): (() => void) => this.live.get(id)?.onChange(listener) ?? (() => {});

  // Where a task's raw event log is (the resource a client reads).
  eventsPath = (id: string): string => this.store.eventsPath(id);

  // Resolves when `ready()` holds or the time is up.
  wait(ids: string[], ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return waitUntil({ live: (id) => this.live.get(id), refreshForeign: (id) => this.record(id) }, ids, ready, timeoutMs, signal);
  }

  recentIdsHint(viewer?: Viewer): string {
    const ids = this.list({ limit: 5, viewer }).map((r) => `${r.id} (${r.state})`);
    return ids.length ? `recent tasks: ${ids.join(', ')}` : 'there are no tasks yet; start one with deep_task';
  }

  // Kills every queued and running task (reason: server shutdown) within the configured shutdown time.
  async shutdown(reason: string): Promise<void> {
    this.closing = true;
    this.stopKillPoll();
    const { shutdownMs } = this.deps.config.limits;
    const fast = stopTimings(this.deps.config.limits, true);
    const tasks = [...this.live.values()].filter((t) => !isFinal(t.record.state));
    const all = tasks.map(async (t) => {
      await t.stop({ reason: 'shutdown', by: 'server', message: `killed: ${reason}; partial output kept` }, fast);
      await t.done;
    });
    this.scheduler.close();
    await Promise.race([Promise.allSettled(all), new Promise((r) => setTimeout(r, shutdownMs).unref())]);
    await this.writer.flush(Math.round(shutdownMs / 7));
  }

  // A task's record when the viewer may see it; another principal's task is as unknown as a missing one.
  visible = (id: string, viewer: Viewer | undefined, rec = this.peek(id)): TaskRecord | undefined => (rec && visibleTo(rec, viewer) ? rec : undefined);

  // A task's record when the viewer may see it, else a ToolError that names the id and the caller's recent tasks.
  async get(id: string, viewer?: Viewer): Promise<TaskRecord> {
    const seen = this.visible(id, viewer);
    const rec = seen && (await this.record(id, seen));
    if (!rec) throw new ToolError(`task_id: no task ${id}; ${this.recentIdsHint(viewer)}`);
    return rec;
  }

  private evictFinished(): void {
    if (this.live.size <= KEEP_FINISHED_IN_MEMORY) return;
    for (const [id, t] of this.live) {
      if (this.live.size <= KEEP_FINISHED_IN_MEMORY) break;
      if (isFinal(t.record.state)) this.live.delete(id);
    }
  }
}

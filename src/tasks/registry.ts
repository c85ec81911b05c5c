import { ToolError } from '../errors.js';
import type { UserContent } from '../claude/control.js';
import type { Cluster } from '../cluster/cluster.js';
import { clusterDuties } from './cluster-duties.js';
import { stopTimings, type RunDeps } from '../run-deps.js';
import { requestAnswer, requestKill, watchOwnerRequests } from './kill-requests.js';
import { listReply } from './list-view.js';
import { Launcher } from './launcher.js';
import type { LiveTask } from './live-task.js';
import { requestContent, type SubmitRequest } from './new-task.js';
import { startProgressPump, type ProgressSend } from './progress-pump.js';
import { RecordWriter } from './record-writer.js';
import { recoverOrphans, schedulePrune } from './recovery.js';
import { Scheduler } from './scheduler.js';
import type { SparePool } from '../spares/spare-pool.js';
import { RepoLocks } from '../isolation/repo-locks.js';
import { TaskStore } from './store.js';
import { TaskLookup } from './task-lookup.js';
import { isFinal, type TaskRecord, type TaskState, type Viewer } from './types.js';
import { statusMany, type ManyReply } from './status-many.js';
import { taskReply, type TaskReply } from './view.js';
import type { InputAnswer } from './input-requests.js';
import { waitUntil } from './waiters.js';
import type { Notifier } from '../notify/notifier.js';
import { conflictingTasks, mergeTask, type MergeReply } from './merge-task.js';
import type { MergeStrategy } from '../isolation/merge-back.js';

const KEEP_FINISHED_IN_MEMORY = 300;
const DEFAULT_TAIL = 10;
// How long kill_task (answer_task) waits for another server to report the task it was asked to kill as ended (as answered).
const REMOTE_KILL_WAIT_MS = 10_000;

// Who asks, how long to wait for a task and how to report progress meanwhile.
export interface WaitOptions {
  /** The caller: it sees and acts only on its own tasks (undefined: the server itself). */
  viewer?: Viewer;
  waitS?: number;
  signal?: AbortSignal;
  progress?: ProgressSend;
}

type RegistryDeps = RunDeps & { serverId: string; spares: SparePool; cluster?: Cluster; notifier?: Notifier };

// The tasks of one server, behind intent-level calls: start, status, list, kill. Queue, store, waiters and runs
// are its parts; no caller reaches into them. In a cluster, tasks go through the shared queue and any server answers
// for any task.
export class Registry {
  private readonly store: TaskStore;
  private readonly live = new Map<string, LiveTask>();
  private readonly scheduler: Scheduler;
  private readonly writer: RecordWriter;
  private readonly launcher: Launcher;
  private readonly locks = new RepoLocks();
  private readonly lookup: TaskLookup;
  private readonly cluster: Cluster | undefined;
  private stopKillPoll: () => void = () => {};
  private closing = false;

  private constructor(private readonly deps: RegistryDeps) {
    this.store = new TaskStore(deps.config.stateDir);
    const cluster = (this.cluster = deps.cluster);
    this.scheduler = new Scheduler(deps.config.limits);
    this.writer = new RecordWriter(
      this.store,
      (task, err) => {
        const message = (err as Error)?.message ?? String(err);
        if (task.noteStoreError(message)) deps.log.warn({ task: task.id, err: message }, 'cannot write task state to disk; the task goes on in memory');
      },
      cluster && ((rec) => cluster.publish(rec)),
    );
    const onLost = (rec: TaskRecord) => deps.notifier?.observe(rec);
    this.lookup = new TaskLookup({ store: this.store, live: this.live, cluster, log: deps.log, locks: this.locks, serverId: deps.serverId, onLost });
    const parts = { deps, store: this.store, live: this.live, scheduler: this.scheduler, writer: this.writer, locks: this.locks, lookup: this.lookup };
    this.launcher = new Launcher({ ...parts, closing: () => this.closing, ended: () => this.evictFinished() });
  }

  // Opens the state dir, declares tasks of dead servers lost, prunes old tasks in the background, takes kill requests.
  static async open(deps: RegistryDeps): Promise<Registry> {
    const registry = new Registry(deps);
    await recoverOrphans(registry.store, deps.log, registry.locks, (rec) => deps.notifier?.observe(rec));
    schedulePrune(registry.store, deps.config.limits, (id) => registry.live.has(id), deps.log);
    registry.stopKillPoll = watchOwnerRequests(deps.config.stateDir, registry.live, (id, by) => void registry.kill(id, by));
    deps.cluster?.attach(clusterDuties({ live: registry.live, kill: (id, by) => registry.kill(id, by), check: (id) => registry.lookup.record(id), killRequests: (ids) => deps.cluster!.killRequests(ids) }));
    return registry;
  }

  get counts(): { running: number; queued: number; peak_running: number } { return { running: this.scheduler.runningCount, queued: this.scheduler.queuedCount, peak_running: this.scheduler.peakRunning }; }

  // A principal's own tasks and fair share now (server_stats shows a token its own numbers).
  countsOf = (viewer: Viewer) => this.launcher.countsOf(viewer);

  // In a cluster: this server's worker takes tasks from the shared queue, up to its own maxRunning at once (0: none).
  serveQueue(): void {
    const c = this.cluster;
    if (this.deps.config.limits.maxRunning > 0) c?.serve(this.deps.config.limits.maxRunning, (id, info) => this.launcher.runJob(c, id, info));
  }

  // Starts a task (here, or through the shared queue in a cluster), then follows it; every input problem is a ToolError first.
  async start(req: SubmitRequest, wait: WaitOptions = {}): Promise<TaskReply> {
    const content = await requestContent(req, this.deps.config.allowedRoots);
    return this.follow(this.cluster ? await this.launcher.enqueue(this.cluster, req, content) : (await this.submit(req, content)).id, wait);
  }

  // Waits up to waitS for a task to finish or to need its caller's input, then replies with its status.
  async follow(id: string, wait: WaitOptions = {}): Promise<TaskReply> {
    await this.get(id, wait.viewer);
    const state = () => this.peek(id)?.state ?? 'lost';
    if ((wait.waitS ?? 0) > 0) {
      const pump = startProgressPump(this.live.get(id) ?? this.cluster?.remote.follower(id), wait.progress);
      await this.wait([id], () => isFinal(state()) || state() === 'needs_input', wait.waitS! * 1000, wait.signal);
      await pump.stop();
    }
    return this.reply(id, { tail: DEFAULT_TAIL, viewer: wait.viewer });
  }

  // Creates the task and runs it on this server (the CLI's run, and every task without a cluster).
  submit = (req: SubmitRequest, content?: UserContent): Promise<LiveTask> => this.launcher.submit(req, content);

  // A task's status, after waiting up to waitS for a change (a new event or state) when asked to.
  async status(id: string, opts: WaitOptions & { cursor?: number; tail?: number } = {}): Promise<TaskReply> {
    const first = await this.get(id, opts.viewer);
    if ((opts.waitS ?? 0) > 0) {
      const followed = this.live.get(id) ?? this.cluster?.remote.follower(id);
      const baseSeq = opts.cursor ?? followed?.seq ?? first.stats.events;
      const pump = startProgressPump(followed, opts.progress);
      const changed = (rec = this.peek(id)) => !rec || isFinal(rec.state) || rec.state !== first.state || (this.live.get(id)?.seq ?? rec.stats.events) > baseSeq;
      await this.wait([id], () => changed(), opts.waitS! * 1000, opts.signal);
      await pump.stop();
    }
    // Without a wait, the record just read is the one to show (one read of the store per call).
    return this.reply(id, { cursor: opts.cursor, tail: opts.tail, viewer: opts.viewer }, (opts.waitS ?? 0) > 0 ? undefined : first);
  }

  // Several tasks at once, after waiting up to waitS for any or all of them to finish.
  statusMany = (ids: string[], opts: WaitOptions & { waitFor?: 'any' | 'all'; tail?: number } = {}): Promise<ManyReply> => statusMany(this, ids, opts);

  // Answers a task's open question (answer_task, the CLI's answer): only the task's owner, only an open request, once.
  async answer(id: string, requestId: string, answer: InputAnswer, viewer?: Viewer): Promise<TaskReply> {
    const rec = await this.get(id, viewer);
    const task = this.live.get(id);
    if (!task) return this.answerRemote(rec, requestId, answer, viewer);
    if (task.stopped) throw new ToolError(`task_id: task ${id} is being stopped (${task.stopped.reason}); its open request was denied`);
    task.inputs.give(id, requestId, answer);
    await new Promise((r) => setImmediate(r));
    return this.reply(id, { tail: DEFAULT_TAIL, viewer });
  }

  // Another server runs the task: the answer goes to it through the cluster, or (one state dir, no cluster) as an
  // answer request it takes within a second, like a kill request; the reply shows the task once it took it.
  private async answerRemote(rec: TaskRecord, requestId: string, answer: InputAnswer, viewer?: Viewer): Promise<TaskReply> {
    const open = rec.state === 'needs_input' ? rec.inputRequest : undefined;
    if (open?.request_id !== requestId) throw new ToolError(`request_id: task ${rec.id} has no open request ${requestId}; ${open ? `its open request is ${open.request_id}` : 'it waits on no request now'}`);
    if (this.cluster) await this.cluster.sendAnswer(rec.id, requestId, answer);
    else await requestAnswer(this.deps.config.stateDir, rec.id, requestId, answer);
    if (!(await this.wait([rec.id], () => this.peek(rec.id)?.inputRequest?.request_id !== requestId, REMOTE_KILL_WAIT_MS))) throw new ToolError(`task_id: the server running task ${rec.id} did not take the answer within ${REMOTE_KILL_WAIT_MS / 1000} s (is it reachable?); see task_status and answer again`);
    return this.reply(rec.id, { tail: DEFAULT_TAIL, viewer });
  }

  // Recent tasks, newest first, as list_tasks shows them.
  async listReply(options: { state?: TaskState[]; limit?: number; viewer?: Viewer } = {}): Promise<{ text: string; structured: Record<string, unknown> }> {
    return listReply(await this.list(options), this.counts);
  }

  // Newest first; live tasks of this server plus everything in the state dir (or, in a cluster, the shared store).
  list = (options: { state?: TaskState[]; limit?: number; viewer?: Viewer } = {}): Promise<TaskRecord[]> => this.lookup.list(options);

  // Stops a task and everything it started, wherever it runs; idempotent; the reply carries the partial output.
  async kill(id: string, by: string, opts: { message?: string; viewer?: Viewer } = {}): Promise<TaskReply> {
    const rec = await this.get(id, opts.viewer);
    const task = this.live.get(id);
    const end = { reason: 'killed' as const, by, message: opts.message ?? `killed by ${by}; partial output kept` };
    if (task && !isFinal(task.record.state)) {
      this.deps.audit.write('task_kill', { task_id: id, by });
      await task.stop(end);
      await task.done;
    } else if (!task && !isFinal(rec.state)) {
      if (!this.cluster) throw new ToolError(`task ${id} belongs to another claude-tiers server (pid ${rec.owner.pid}) that is still running; kill it from that server's client`);
      this.deps.audit.write('task_kill', { task_id: id, by, through: 'cluster' });
      if (!(rec.state === 'queued' && (await this.cluster.endQueued(rec, end)))) await this.cluster.requestKill(id, by);
      await this.wait([id], () => isFinal(this.peek(id)?.state ?? 'lost'), REMOTE_KILL_WAIT_MS);
    }
    return this.reply(id, { tail: DEFAULT_TAIL, viewer: opts.viewer });
  }

  // merge_task: a finished task's branch into a branch of its repository, under the repository's lock.
  async merge(id: string, opts: { strategy: MergeStrategy; into?: string; viewer?: Viewer; by: string }): Promise<MergeReply> {
    const rec = await this.get(id, opts.viewer);
    const { reply, outcome } = await mergeTask(rec, opts, this.locks);
    this.deps.audit.write('task_merge', { task_id: id, by: opts.by, strategy: opts.strategy, ...outcome });
    return reply;
  }

  // The caller's tasks whose branches would conflict with this one's (the board shows them before a merge).
  conflictsOf = async (id: string, viewer?: Viewer): Promise<string[]> =>
    conflictingTasks(await this.get(id, viewer), await this.list({ viewer, limit: 100 }));

  // Kill for any task: this server's at once, another's through the cluster or a kill request in the state dir.
  async cancel(id: string, by: string): Promise<void> {
    const rec = await this.record(id);
    if (!rec || isFinal(rec.state)) return;
    if (this.live.has(id) || this.cluster) await this.kill(id, by);
    else await requestKill(this.deps.config.stateDir, id, by);
  }

  // A task's record read again; a foreign unfinished task whose server died is declared lost on the way.
  record = (id: string, known?: TaskRecord): Promise<TaskRecord | undefined> => this.lookup.record(id, known ?? this.peek(id));

  // A task's record as it stands, from memory, the shared store's cache or disk, without side effects.
  peek = (id: string): TaskRecord | undefined => this.lookup.peek(id);

  // The reply for one task as it stands.
  async reply(id: string, opts: { cursor?: number; tail?: number; isError?: boolean; viewer?: Viewer } = {}, known?: TaskRecord): Promise<TaskReply> {
    const rec = known ?? (await this.get(id, opts.viewer));
    const reply = await taskReply(this.lookup.events(rec), rec, this.live.get(id), { cursor: opts.cursor, tail: opts.tail ?? DEFAULT_TAIL });
    return opts.isError === undefined ? reply : { ...reply, isError: opts.isError };
  }

  // The text block claude is writing now, for a live task.
  writingOf = (id: string): { chars: number } | undefined => this.live.get(id)?.writing;

  // Wakes `listener` on every change of a task this server runs or follows; returns the unsubscribe.
  onChange = (id: string, listener: () => void): (() => void) => this.live.get(id)?.onChange(listener) ?? this.cluster?.remote.watch(id, listener) ?? (() => {});
  // Wakes `listener` with the id of any task that changes here, or that a server of the cluster announces (the board).
  onAnyChange = (l: (id: string) => void): (() => void) => this.launcher.changes.watch(l, this.cluster?.remote.watchAll(l));

  // Where a task's raw event log is (the resource a client reads).
  eventsPath = (id: string): string => this.store.eventsPath(id);

  // Resolves when `ready()` holds or the time is up.
  wait = (ids: string[], ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> =>
    waitUntil({ live: (id) => this.live.get(id), watch: this.cluster && ((id, l) => this.cluster!.remote.watch(id, l)), refreshForeign: (id) => this.record(id) }, ids, ready, timeoutMs, signal);

  recentIdsHint = (viewer?: Viewer): Promise<string> => this.lookup.recentIdsHint(viewer);

  // Kills every queued and running task (reason: server shutdown) within the configured shutdown time.
  async shutdown(reason: string): Promise<void> {
    this.closing = true;
    this.stopKillPoll();
    // Slots freed by the stops below must not take the next job of the shared queue.
    this.cluster?.stopTaking();
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
    await this.deps.notifier?.close(Math.round(shutdownMs / 7));
    await this.cluster?.close();
  }

  // A task's record when the viewer may see it; another principal's task is as unknown as a missing one.
  visible = (id: string, viewer: Viewer | undefined, rec = this.peek(id)): TaskRecord | undefined => this.lookup.visible(id, viewer, rec);

  // A task's record (fresh) when the viewer may see it, else a ToolError that names the id and the caller's recent tasks.
  get = (id: string, viewer?: Viewer): Promise<TaskRecord> => this.lookup.get(id, viewer);

  private evictFinished(): void {
    for (const [id, t] of this.live) {
      if (this.live.size <= KEEP_FINISHED_IN_MEMORY) break;
      if (isFinal(t.record.state)) this.live.delete(id);
    }
  }
}

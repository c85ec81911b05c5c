import { ToolError } from '../errors.js';
import type { RunDeps } from '../run-deps.js';
import { stopTimings } from '../tier-run/tier-run.js';
import { listReply } from './list-view.js';
import { Launcher } from './launcher.js';
import { newTask, type SubmitRequest } from './new-task.js';
import { startProgressPump, type ProgressSend } from './progress-pump.js';
import { Scheduler } from './scheduler.js';
import type { SparePool } from '../spares/spare-pool.js';
import type { RepoLocks } from '../isolation/repo-locks.js';
import type { TaskBackend } from './backend.js';
import { isFinal, LOCAL_PRINCIPAL, visibleTo, type TaskRecord, type TaskState, type Viewer } from './types.js';
import { statusMany, type ManyReply } from './status-many.js';
import { taskReply, type TaskReply } from './view.js';
import type { InputAnswer } from './input-requests.js';
import { waitUntil } from './waiters.js';
import type { Notifier } from '../notify/notifier.js';
import { conflictingTasks, mergeTask, type MergeReply } from './merge-task.js';
import { folderHolder } from './task-worktree.js';
import type { MergeStrategy } from '../isolation/merge-back.js';
import { ownCounts } from './own-counts.js';

const KEEP_FINISHED_IN_MEMORY = 300;
const DEFAULT_TAIL = 10;
// How long kill_task (answer_task) waits for another server to report the task it was asked to kill as ended (as
// answered).
const REMOTE_KILL_WAIT_MS = 10_000;
// How long an answer sent to another process waits for that process to take it: it notices the answer, hands it to
// claude and rewrites the record, each slower on a busy machine (10 s was missed once beside a soak and a CI run).
const REMOTE_ANSWER_WAIT_MS = 30_000;

// Who asks, how long to wait for a task and how to report progress meanwhile.
export interface WaitOptions {
  /** The caller: it sees and acts only on its own tasks (undefined: the server itself). */
  viewer?: Viewer;
  waitS?: number;
  signal?: AbortSignal;
  progress?: ProgressSend;
}

type ServiceDeps = RunDeps & {
  serverId: string;
  spares: SparePool;
  backend: TaskBackend;
  locks: RepoLocks;
  notifier?: Notifier;
};

// The tasks of one server, behind intent-level calls: start, follow, status, list, answer, kill, cancel, merge,
// watch. Written once over a TaskBackend (the composition root picks local or Redis): the backend stores tasks and
// carries them to the server that runs them; the launcher runs this server's own. No caller reaches into either.
export class TaskService {
  private readonly scheduler: Scheduler;
  private readonly launcher: Launcher;
  private readonly backend: TaskBackend;
  private readonly locks: RepoLocks;
  private closing = false;

  private constructor(private readonly deps: ServiceDeps) {
    this.backend = deps.backend;
    this.locks = deps.locks;
    this.scheduler = new Scheduler(deps.config.limits);
    this.launcher = new Launcher({
      deps,
      backend: this.backend,
      scheduler: this.scheduler,
      locks: this.locks,
      closing: () => this.closing,
      kill: (id, by) => this.kill(id, by),
      lost: (rec) => deps.notifier?.observe(rec),
      ended: () => this.launcher.trim(KEEP_FINISHED_IN_MEMORY, (t) => isFinal(t.record.state)),
    });
  }

  // Opens the backend for this server (the launcher is the host it sees): recovery, requests from other processes.
  static async open(deps: ServiceDeps): Promise<TaskService> {
    const service = new TaskService(deps);
    await deps.backend.open(service.launcher);
    return service;
  }

  get counts(): { running: number; queued: number; peak_running: number } {
    return {
      running: this.scheduler.runningCount,
      queued: this.scheduler.queuedCount,
      peak_running: this.scheduler.peakRunning,
    };
  }

  // A principal's own tasks and fair share now (server_stats shows a token its own numbers).
  countsOf = (viewer: Viewer) => ownCounts(viewer, (options) => this.list(options), this.scheduler);

  // This server takes queued tasks (a shared queue's), up to its own maxRunning at once (0: none).
  serveQueue(): void {
    if (this.deps.config.limits.maxRunning > 0) this.backend.serve(this.deps.config.limits.maxRunning);
  }

  // Starts a task (here, or through the shared queue), then follows it; every input problem is a ToolError first.
  async start(req: SubmitRequest, wait: WaitOptions = {}): Promise<TaskReply> {
    if (req.continueTaskId) await this.record(req.continueTaskId);
    const hint = req.continueTaskId
      ? await this.recentIdsHint({ principal: req.principal ?? LOCAL_PRINCIPAL, admin: false })
      : '';
    if (this.closing) throw new ToolError('the server is shutting down; no new tasks are accepted');
    // The record of the new task, checked, and its request resolved once.
    const { record, run } = await newTask(req, {
      config: this.deps.config,
      owner: this.launcher.owner,
      findRecord: (id, viewer) => this.visible(id, viewer),
      recentIdsHint: () => hint,
      folderHolder: (dir) =>
        folderHolder(
          this.locks,
          dir,
          this.launcher.tasks().map((t) => t.record as TaskRecord),
        ),
      costs: this.deps.spending.costs,
    });
    await this.backend.create(record, run, this.launcher.audited(record, req));
    return this.follow(record.id, wait);
  }

  // Waits up to waitS for a task to finish or to need its caller's input, then replies with its status.
  async follow(id: string, wait: WaitOptions = {}): Promise<TaskReply> {
    await this.get(id, wait.viewer);
    const state = () => this.peek(id)?.state ?? 'lost';
    if ((wait.waitS ?? 0) > 0) {
      const pump = startProgressPump(this.followed(id), wait.progress);
      await this.wait([id], () => isFinal(state()) || state() === 'needs_input', wait.waitS! * 1000, wait.signal);
      await pump.stop();
    }
    return this.reply(id, { tail: DEFAULT_TAIL, viewer: wait.viewer });
  }

  // A task as something to follow: this server's own, or another server's through the backend.
  private followed = (id: string) => this.launcher.live(id) ?? this.backend.follower(id);

  // A task's status, after waiting up to waitS for a change (a new event or state) when asked to.
  async status(id: string, opts: WaitOptions & { cursor?: number; tail?: number } = {}): Promise<TaskReply> {
    const first = await this.get(id, opts.viewer);
    if ((opts.waitS ?? 0) > 0) {
      const followed = this.followed(id);
      const baseSeq = opts.cursor ?? followed?.seq ?? first.stats.events;
      const pump = startProgressPump(followed, opts.progress);
      const changed = (rec = this.peek(id)) =>
        !rec ||
        isFinal(rec.state) ||
        rec.state !== first.state ||
        (this.launcher.live(id)?.seq ?? rec.stats.events) > baseSeq;
      await this.wait([id], () => changed(), opts.waitS! * 1000, opts.signal);
      await pump.stop();
    }
    // Without a wait, the record just read is the one to show (one read of the store per call).
    return this.reply(
      id,
      { cursor: opts.cursor, tail: opts.tail, viewer: opts.viewer },
      (opts.waitS ?? 0) > 0 ? undefined : first,
    );
  }

  // Several tasks at once, after waiting up to waitS for any or all of them to finish.
  statusMany = (
    ids: string[],
    opts: WaitOptions & { waitFor?: 'any' | 'all'; tail?: number } = {},
  ): Promise<ManyReply> => statusMany(this, ids, opts);

  // Answers a task's open question (answer_task, the CLI's answer): only the task's owner, only an open request, once.
  async answer(id: string, requestId: string, answer: InputAnswer, viewer?: Viewer): Promise<TaskReply> {
    const rec = await this.get(id, viewer);
    const task = this.launcher.live(id);
    if (!task) return this.answerRemote(rec, requestId, answer, viewer);
    if (task.stopped)
      throw new ToolError(`task_id: task ${id} is being stopped (${task.stopped.reason}); its open request was denied`);
    task.inputs.give(id, requestId, answer);
    await new Promise((r) => setImmediate(r));
    return this.reply(id, { tail: DEFAULT_TAIL, viewer });
  }

  // Another server runs the task: the answer goes to it through the backend; the reply shows the task once it took it.
  private async answerRemote(
    rec: TaskRecord,
    requestId: string,
    answer: InputAnswer,
    viewer?: Viewer,
  ): Promise<TaskReply> {
    const open = rec.state === 'needs_input' ? rec.inputRequest : undefined;
    if (open?.request_id !== requestId)
      throw new ToolError(
        `request_id: task ${rec.id} has no open ` +
          `request ${requestId}; ${open ? `its open request is ${open.request_id}` : 'it waits on no request now'}`,
      );
    await this.backend.sendAnswer(rec, requestId, answer);
    if (
      !(await this.wait(
        [rec.id],
        () => this.peek(rec.id)?.inputRequest?.request_id !== requestId,
        REMOTE_ANSWER_WAIT_MS,
      ))
    )
      throw new ToolError(
        `task_id: the server running task ${rec.id} did not take the answer ` +
          `within ${REMOTE_ANSWER_WAIT_MS / 1000} s (is it reachable?); see task_status and answer again`,
      );
    return this.reply(rec.id, { tail: DEFAULT_TAIL, viewer });
  }

  // Recent tasks, newest first, as list_tasks shows them.
  async listReply(
    options: { state?: TaskState[]; limit?: number; viewer?: Viewer } = {},
  ): Promise<{ text: string; structured: Record<string, unknown> }> {
    return listReply(await this.list(options), this.counts);
  }

  // Newest first: the backend's tasks, with this server's own as they stand in memory.
  async list(options: { state?: TaskState[]; limit?: number; viewer?: Viewer } = {}): Promise<TaskRecord[]> {
    const limit = options.limit ?? 20;
    const wanted = (r: TaskRecord) =>
      (!options.state || options.state.includes(r.state)) && visibleTo(r, options.viewer);
    const out = await this.backend.list(wanted, limit);
    for (const t of this.launcher.tasks()) {
      const rec = t.record as TaskRecord;
      const i = out.findIndex((r) => r.id === t.id);
      if (i >= 0) out[i] = rec;
      else if (wanted(rec)) out.push(rec);
    }
    return out.sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, limit);
  }

  // Stops a task and everything it started, wherever it runs; idempotent; the reply carries the partial output.
  // `strict` (kill_task): a task this server cannot reach at once is refused rather than asked for.
  async kill(
    id: string,
    by: string,
    opts: { message?: string; viewer?: Viewer; strict?: boolean } = {},
  ): Promise<TaskReply> {
    const rec = await this.get(id, opts.viewer);
    const task = this.launcher.live(id);
    const end = { reason: 'killed' as const, by, message: opts.message ?? `killed by ${by}; partial output kept` };
    if (task && !isFinal(task.record.state)) {
      this.deps.audit.write('task_kill', { task_id: id, by });
      await task.stop(end);
      await task.done;
    } else if (!task && !isFinal(rec.state)) {
      await this.backend.requestKill(rec, end, opts.strict ?? true);
      this.deps.audit.write('task_kill', { task_id: id, by, through: this.backend.name });
      await this.wait([id], () => isFinal(this.peek(id)?.state ?? 'lost'), REMOTE_KILL_WAIT_MS);
    }
    return this.reply(id, { tail: DEFAULT_TAIL, viewer: opts.viewer });
  }

  // merge_task: a finished task's branch into a branch of its repository, under the repository's lock.
  async merge(
    id: string,
    opts: { strategy: MergeStrategy; into?: string; allowToolConfig?: boolean; viewer?: Viewer; by: string },
  ): Promise<MergeReply> {
    const rec = await this.get(id, opts.viewer);
    const { reply, outcome } = await mergeTask(rec, opts, this.locks);
    this.deps.audit.write('task_merge', { task_id: id, by: opts.by, strategy: opts.strategy, ...outcome });
    return reply;
  }

  // The caller's tasks whose branches would conflict with this one's (the board shows them before a merge).
  conflictsOf = async (id: string, viewer?: Viewer): Promise<string[]> =>
    conflictingTasks(await this.get(id, viewer), await this.list({ viewer, limit: 100 }));

  // Kill for any task (the board, the CLI): this server's at once, another's through the backend.
  async cancel(id: string, by: string): Promise<void> {
    const rec = await this.record(id);
    if (!rec || isFinal(rec.state)) return;
    await this.kill(id, by, { strict: false });
  }

  // A task's record read again; an unfinished task of another server that died is declared lost on the way.
  record = async (id: string, known?: TaskRecord): Promise<TaskRecord | undefined> => {
    const live = this.launcher.live(id);
    return live ? (live.record as TaskRecord) : this.backend.read(id, known ?? this.backend.peek(id));
  };

  // A task's record as it stands, from memory, the backend's cache or disk, without side effects.
  peek = (id: string): TaskRecord | undefined =>
    (this.launcher.live(id)?.record as TaskRecord | undefined) ?? this.backend.peek(id);

  // The reply for one task as it stands.
  async reply(
    id: string,
    opts: { cursor?: number; tail?: number; isError?: boolean; viewer?: Viewer } = {},
    known?: TaskRecord,
  ): Promise<TaskReply> {
    const rec = known ?? (await this.get(id, opts.viewer));
    const reply = await taskReply(this.backend.events(rec), rec, this.launcher.live(id), {
      cursor: opts.cursor,
      tail: opts.tail ?? DEFAULT_TAIL,
    });
    return opts.isError === undefined ? reply : { ...reply, isError: opts.isError };
  }

  // Resolves when the run of a task this server runs is over, its last writes made (at once for any other task).
  done = (id: string): Promise<void> => this.launcher.live(id)?.done ?? Promise.resolve();

  // The text block claude is writing now, for a live task.
  writingOf = (id: string): { chars: number } | undefined => this.launcher.live(id)?.writing;

  // Wakes `listener` on every change of a task this server runs or follows (through the backend); returns the
  // unsubscribe.
  watch = (id: string, listener: () => void): (() => void) =>
    this.launcher.live(id)?.onChange(listener) ?? this.backend.watch(id, listener) ?? (() => {});
  // Wakes `listener` with the id of any task that changes here, or that another server announces (the board).
  watchAll = (l: (id: string) => void): (() => void) => this.launcher.changes.watch(l, this.backend.watchAll(l));

  // Where a task's raw event log is (the resource a client reads).
  eventsPath = (id: string): string => this.backend.disk.eventsPath(id);

  // Resolves when `ready()` holds or the time is up.
  wait = (ids: string[], ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> =>
    waitUntil(
      {
        live: this.launcher.live,
        watch: (id, l) => this.backend.watch(id, l),
        refreshForeign: (id) => this.record(id),
      },
      ids,
      ready,
      timeoutMs,
      signal,
    );

  async recentIdsHint(viewer?: Viewer): Promise<string> {
    const ids = (await this.list({ limit: 5, viewer }).catch(() => [])).map((r) => `${r.id} (${r.state})`);
    return ids.length ? `recent tasks: ${ids.join(', ')}` : 'there are no tasks yet; start one with deep_task';
  }

  // Kills every queued and running task (reason: server shutdown) within the configured shutdown time.
  async shutdown(reason: string): Promise<void> {
    this.closing = true;
    this.backend.stopTaking();
    const { shutdownMs } = this.deps.config.limits;
    const fast = stopTimings(this.deps.config.limits, true);
    const tasks = this.launcher.tasks().filter((t) => !isFinal(t.record.state));
    const all = tasks.map(async (t) => {
      await t.stop({ reason: 'shutdown', by: 'server', message: `killed: ${reason}; partial output kept` }, fast);
      await t.done;
    });
    this.scheduler.close();
    await Promise.race([Promise.allSettled(all), new Promise((r) => setTimeout(r, shutdownMs).unref())]);
    await this.backend.close(Math.round(shutdownMs / 7));
    await this.deps.notifier?.close(Math.round(shutdownMs / 7));
  }

  // A task's record when the viewer may see it; another principal's task is as unknown as a missing one.
  visible = (id: string, viewer: Viewer | undefined, rec = this.peek(id)): TaskRecord | undefined =>
    rec && visibleTo(rec, viewer) ? rec : undefined;

  // A task's record (fresh) when the viewer may see it, else a ToolError that names the id and the caller's recent
  // tasks.
  async get(id: string, viewer?: Viewer): Promise<TaskRecord> {
    const rec = this.visible(id, viewer, await this.record(id));
    if (rec) return rec;
    const unreadable = this.backend.unreadable(id);
    if (unreadable)
      throw new ToolError(
        `task_id: ${id} is an unreadable record in the shared store (${unreadable}); listings skip it`,
      );
    throw new ToolError(`task_id: no task ${id}; ${await this.recentIdsHint(viewer)}`);
  }
}

import { hostname } from 'node:os';
import type { UserContent } from '../claude/control.js';
import { processStartTime } from '../claude/terminate/index.js';
import type { BudgetHold } from '../cost/spending.js';
import { ToolError } from '../errors.js';
import type { RepoLocks } from '../isolation/repo-locks.js';
import type { RunDeps } from '../run-deps.js';
import type { SparePool } from '../spares/spare-pool.js';
import { resolveRun, type ResolvedRun } from '../tier-run/resolve.js';
import type { Admission, TaskBackend, TaskHost } from './backend.js';
import { ChangeHub } from './change-hub.js';
import { LiveTask } from './live-task.js';
import type { SubmitRequest } from './new-task.js';
import type { Scheduler } from './scheduler.js';
import type { Notifier } from '../notify/notifier.js';
import { runTask } from './task-runner.js';
import { LOCAL_PRINCIPAL, type TaskRecord } from './types.js';

// What starting tasks takes.
export interface LauncherParts {
  deps: RunDeps & { serverId: string; spares: SparePool; notifier?: Notifier };
  backend: TaskBackend;
  scheduler: Scheduler;
  locks: RepoLocks;
  /** The server is shutting down: nothing new starts. */
  closing(): boolean;
  /** Stops a task this server runs (a kill asked for through the backend). */
  kill(id: string, by: string): Promise<unknown>;
  /** Told once of each task the backend declared lost. */
  lost(record: TaskRecord): void;
  /** A task ended (the service trims what it keeps in memory). */
  ended(): void;
}

// The tasks this server runs: a new task's record from a request, this server's admission of a task (slots, budget,
// breaker), and its run. It alone holds the tasks in memory; the service reads them through `get`. It is the host
// its backend sees: a task start goes service -> backend -> launcher, never back through the service.
export class Launcher implements TaskHost {
  readonly owner: TaskRecord['owner'];
  /** Every change of a task this server runs (the service's feed of all changes). */
  readonly changes = new ChangeHub();
  private readonly held = new Map<string, LiveTask>();

  constructor(private readonly p: LauncherParts) {
    this.owner = {
      serverId: p.deps.serverId,
      pid: process.pid,
      startTime: processStartTime(process.pid),
      host: hostname(),
    };
  }

  // A task this server runs or ran (kept in memory), their ids, and the tasks themselves.
  live = (id: string): LiveTask | undefined => this.held.get(id);
  liveIds = (): string[] => [...this.held.keys()];
  tasks = (): LiveTask[] => [...this.held.values()];
  closing = (): boolean => this.p.closing();
  kill = (id: string, by: string): Promise<unknown> => this.p.kill(id, by);
  lost = (record: TaskRecord): void => this.p.lost(record);

  // What a task's start writes to the audit once the backend took the task in (its `accepted`).
  audited = (record: TaskRecord, req: SubmitRequest) => (): void => {
    this.p.deps.audit.write('task_submitted', {
      task_id: record.id,
      tier: record.request.tier,
      model: record.request.model,
      cwd: record.request.cwd,
      prompt: this.p.deps.audit.prompt(req.prompt),
      client: req.clientId,
      routed: record.routed,
      continue_of: req.continueTaskId,
    });
  };

  // Runs a task on this server at once, after its admission here (the task of a server without a shared queue).
  runHere(record: TaskRecord, run: ResolvedRun, accepted: () => void): LiveTask {
    if (this.p.deps.config.limits.maxRunning === 0)
      throw new ToolError(
        'this server runs no tasks itself (limits.maxRunning 0, a front end of a cluster); submit through ' +
          'deep_task, which queues it for the workers',
      );
    this.p.deps.claudeBinary();
    this.p.scheduler.checkRoom(record.principal ?? LOCAL_PRINCIPAL);
    // The principal's budget holds back the task's estimate until the task ends (its runner settles it).
    const hold = this.reserve(record, run);
    let task: LiveTask | undefined;
    try {
      accepted();
      task = this.launch(record, { hold, ticket: this.p.deps.breakers.admit(`${run.tierName}:${run.model}`), run });
      return task;
    } finally {
      // A hold not handed to a run is released here.
      if (!task) hold.settle();
    }
  }

  // A queued task's admission here: its request resolved against this server's tiers and roots (its content comes
  // with the claim), its budget hold and breaker ticket; or the reason it cannot run here now.
  async admit(record: TaskRecord): Promise<Admission> {
    const { tier, cwd, model, prompt } = record.request;
    const run = await resolveRun(this.p.deps.config, { tierName: tier, cwd, model, prompt });
    const hold = this.reserve(record, run);
    try {
      return { hold, ticket: this.p.deps.breakers.admit(`${run.tierName}:${run.model}`), run };
    } catch (err) {
      hold.settle();
      throw err;
    }
  }

  // Admits a task against its principal's daily budget and holds back its estimated cost.
  private reserve(record: TaskRecord, run: ResolvedRun): BudgetHold {
    const { tier, model, prompt, maxBudgetUsd } = record.request;
    const cap = maxBudgetUsd ?? run.tier.maxBudgetUsd;
    return this.p.deps.spending.reserve(record.principal ?? LOCAL_PRINCIPAL, {
      tier,
      model,
      promptChars: prompt.length,
      maxBudgetUsd: cap,
    });
  }

  // Runs a task here; the breaker ticket and budget hold it was admitted with are released by the runner, whatever
  // happens.
  launch(record: TaskRecord, admission: Admission, content?: UserContent): LiveTask {
    const { deps, backend } = this.p;
    const store = backend.disk;
    const task = new LiveTask(record, deps.config.limits.eventRingSize, backend.eventSink(record.id));
    this.held.set(record.id, task);
    // The webhook hears of this task's states from the server that runs it (once each, whichever server was asked).
    const notifier = deps.notifier;
    if (notifier) task.onChange(() => notifier.observe(task.record));
    task.onChange(() => this.changes.emit(record.id));
    this.changes.emit(record.id);
    void store.markActive(record.id, process.pid).catch((err: unknown) => task.noteStoreError((err as Error).message));
    void backend.save(task, true);
    const runner = {
      ...deps,
      store,
      scheduler: this.p.scheduler,
      locks: this.p.locks,
      save: (t: LiveTask, now?: boolean) => backend.save(t, now),
    };
    // What the queue carried (images, then the prompt) is what claude is sent.
    const run = content ? { ...admission.run, content } : admission.run;
    void runTask(task, { ...admission, run }, runner).finally(() => this.p.ended());
    return task;
  }

  // Keeps at most `keep` tasks in memory, dropping finished ones first.
  trim(keep: number, finished: (t: LiveTask) => boolean): void {
    for (const [id, t] of this.held) {
      if (this.held.size <= keep) break;
      if (finished(t)) this.held.delete(id);
    }
  }
}

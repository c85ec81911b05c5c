import type { UserContent } from '../claude/control.js';
import type { BreakerTicket } from '../guards/breaker.js';
import type { BudgetHold } from '../cost/spending.js';
import type { ResolvedRun } from '../tier-run/resolve.js';
import type { InputAnswer } from './input-requests.js';
import type { LiveTask } from './live-task.js';
import type { TaskStore } from './store.js';
import type { EndInfo, TaskRecord } from './types.js';
import type { EventReader } from './view.js';

// The request as resolved once (the backends pass it on, never resolve it again).
export type { ResolvedRun };

// What this server holds back for a task it is about to run (a breaker ticket and a budget hold), and the task's
// request as this server resolved it (its tier, real cwd, model and content).
export interface Admission {
  ticket: BreakerTicket;
  hold: BudgetHold;
  run: ResolvedRun;
}

// The server a backend stores tasks for, as the backend sees it: the tasks it runs (in memory) and how a task starts
// running here. The task service implements it; a backend never holds the tasks itself.
export interface TaskHost {
  /** The identity written as a record's owner by this server. */
  readonly owner: TaskRecord['owner'];
  /** A task this server runs or ran (kept in memory), finished or not. */
  live(id: string): LiveTask | undefined;
  /** The ids of those tasks. */
  liveIds(): string[];
  /** Stops a task this server runs (a kill asked for through the backend). */
  kill(id: string, by: string): Promise<unknown>;
  /** Told once of each task the backend declared lost (the webhook's "lost"). */
  lost(record: TaskRecord): void;
  /** The server shuts down: nothing new starts. */
  closing(): boolean;
  /**
   * Starts a task here at once, after this server's own admission (ToolErrors); `accepted` runs once it is admitted.
   */
  runHere(record: TaskRecord, run: ResolvedRun, accepted: () => void): LiveTask;
  /**
   * What a queued task needs to run here now (its request resolved here); throws the reason when it cannot run here.
   */
  admit(record: TaskRecord): Promise<Admission>;
  /**
   * Runs a task admitted here (content: what the queue carried, images included); the run releases what `admit` held.
   */
  launch(record: TaskRecord, admission: Admission, content?: UserContent): LiveTask;
}

// A task another server runs, as this server follows it (a long-poll or MCP progress follows it like a live one).
export interface FollowedTask {
  readonly record: Readonly<TaskRecord>;
  readonly seq: number;
  readonly writing: undefined;
  onChange(listener: () => void): () => void;
}

// Where tasks are kept and how they reach the server that runs them: the one seam between the task service and its
// storage. `local` keeps them in a state dir on this machine; `redis` shares them among servers through a queue.
export interface TaskBackend {
  /** A short name for logs and the audit ("local", "cluster"). */
  readonly name: string;
  /** This server's own tasks on its disk: their records and raw event logs, whatever the backend. */
  readonly disk: TaskStore;
  /** Starts serving `host`: recovery of tasks whose server died, requests from other processes. */
  open(host: TaskHost): Promise<void>;
  /** A new task, its request resolved: run here at once, or queued for whichever server takes it; `accepted` runs
   * once it is taken in. */
  create(record: TaskRecord, run: ResolvedRun, accepted: () => void): Promise<void>;
  /** Takes queued tasks for this server, up to `concurrency` at once. */
  serve(concurrency: number): void;
  /** A record as it stands here, without I/O beyond the local disk and without side effects. */
  peek(id: string): TaskRecord | undefined;
  /** A record read again, of a task this server does not run; an unfinished task whose server died is declared lost. */
  read(id: string, known?: TaskRecord): Promise<TaskRecord | undefined>;
  /** Why a stored record could not be read, when it could not. */
  unreadable(id: string): string | undefined;
  /** The newest records, newest first, `wanted` ones only. */
  list(wanted: (r: TaskRecord) => boolean, limit: number): Promise<TaskRecord[]>;
  /** Where the event lines of a task this server does not run are read. */
  events(record: Readonly<TaskRecord>): EventReader;
  /** Where each event line of a task run here also goes, if anywhere. */
  eventSink(id: string): ((seq: number, text: string) => void) | undefined;
  /** The owner's write of its task: at once (awaited) or coalesced; writes of one task never overlap. */
  save(task: LiveTask, now?: boolean): Promise<void>;
  /** Wakes `listener` on changes of a task another server runs (undefined: no such feed, callers poll). */
  watch(id: string, listener: () => void): (() => void) | undefined;
  /** Wakes `listener` with the id of any task another server announces as changed. */
  watchAll(listener: (id: string) => void): () => void;
  /** A task another server runs, to follow (after a read). */
  follower(id: string): FollowedTask | undefined;
  /** Asks the server that runs a task to kill it. `strict`: refuse (ToolError) where the owner cannot be reached at
   * once. */
  requestKill(record: TaskRecord, end: EndInfo & { by: string }, strict: boolean): Promise<void>;
  /** Gives the answer to the open question of a task another server runs. */
  sendAnswer(record: TaskRecord, requestId: string, answer: InputAnswer): Promise<void>;
  /** Shutdown, first step: no new tasks are taken, no more requests are acted on. */
  stopTaking(): void;
  /** Shutdown, last step: pending writes go out (bounded in time), connections close. */
  close(flushMs: number): Promise<void>;
}

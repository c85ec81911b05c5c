import type { ClaudeBinary } from './claude/find-binary.js';
import type { Admission } from './cluster/shared-limits.js';
import type { CompareRequest, CompareStatus } from './compare/compare-jobs.js';
import type { Config } from './config/schema.js';
import type { Spending } from './cost/spending.js';
import type { MergeStrategy } from './isolation/merge-back.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics/metrics.js';
import type { ServerStats } from './metrics/server-stats.js';
import type { Notifier } from './notify/notifier.js';
import type { QuickAnswer, QuickRequest } from './quick/answer.js';
import type { InputAnswer } from './tasks/input-requests.js';
import type { MergeReply } from './tasks/merge-task.js';
import type { SubmitRequest } from './tasks/new-task.js';
import type { ProgressSend } from './tasks/progress-pump.js';
import type { TaskService } from './tasks/service.js';
import type { ManyReply } from './tasks/status-many.js';
import type { TaskRecord, TaskState, Viewer } from './tasks/types.js';
import type { TaskReply } from './tasks/view.js';

// The facade tools see: everything a handler may use comes from this module. It stays light (types and small values):
// the engine itself is built by create-engine.ts, loaded after the server already answers.
export { ModelName, type Limits } from './config/schema.js';
export { ToolError } from './errors.js';
export type { QuickAnswer, QuickRequest } from './quick/answer.js';
// The shapes a tool returns or passes on, as zod schemas (output schemas, and the tests' parsers).
export { QuickAnswerSchema } from './shapes/quick-answer.js';
export { TaskViewSchema, type TaskView } from './shapes/task-view.js';
export { KillTaskOutputSchema, listedOutputSchema, TaskStatusOutputSchema } from './shapes/tool-outputs.js';
export { CompareStatusSchema } from './shapes/compare.js';
export type { TaskReply } from './tasks/view.js';
export { LOCAL_PRINCIPAL, TASK_STATES, type TaskState, type Viewer } from './tasks/types.js';

// What compare_tiers and compare_status report.
export type { CompareStatus } from './compare/compare-jobs.js';

// What server_stats reports.
export type { ServerStats };

// Who asks, how long a task call may wait, and where its progress goes.
export interface TaskWait {
  /** The caller: it sees and acts only on its own tasks (undefined: the server itself). */
  viewer?: Viewer;
  waitS?: number;
  signal?: AbortSignal;
  progress?: ProgressSend;
}

// The task calls the tools make, and nothing more: the task service as a handler sees it.
export interface ToolTasks {
  start(req: SubmitRequest, wait?: TaskWait): Promise<TaskReply>;
  follow(id: string, wait?: TaskWait): Promise<TaskReply>;
  status(id: string, opts?: TaskWait & { cursor?: number; tail?: number }): Promise<TaskReply>;
  statusMany(ids: string[], opts?: TaskWait & { waitFor?: 'any' | 'all'; tail?: number }): Promise<ManyReply>;
  listReply(opts?: {
    state?: TaskState[];
    limit?: number;
    viewer?: Viewer;
  }): Promise<{ text: string; structured: Record<string, unknown> }>;
  kill(id: string, by: string, opts?: { message?: string; viewer?: Viewer }): Promise<TaskReply>;
  answer(id: string, requestId: string, answer: InputAnswer, viewer?: Viewer): Promise<TaskReply>;
  merge(
    id: string,
    opts: { strategy: MergeStrategy; into?: string; allowToolConfig?: boolean; viewer?: Viewer; by: string },
  ): Promise<MergeReply>;
}

// The task calls the MCP wiring makes besides the tools' (tasks/*, the event resources, prompt completion).
export interface McpTasks extends ToolTasks {
  record(id: string): Promise<TaskRecord | undefined>;
  peek(id: string): TaskRecord | undefined;
  visible(id: string, viewer: Viewer | undefined, rec?: TaskRecord): TaskRecord | undefined;
  list(opts?: { state?: TaskState[]; limit?: number; viewer?: Viewer }): Promise<TaskRecord[]>;
  reply(id: string, opts?: { cursor?: number; tail?: number; isError?: boolean; viewer?: Viewer }): Promise<TaskReply>;
  cancel(id: string, by: string): Promise<void>;
  writingOf(id: string): { chars: number } | undefined;
  eventsPath(id: string): string;
  watch(id: string, listener: () => void): () => void;
}

// The comparison calls the tools make (compare_tiers, compare_status, kill_task with compare_id).
export interface ToolCompare {
  start(req: CompareRequest): CompareStatus;
  status(
    id: string,
    opts?: { waitS?: number; signal?: AbortSignal; viewer?: Viewer; stopOnAbort?: string },
  ): Promise<CompareStatus>;
  cancel(id: string, by: string, viewer?: Viewer): Promise<CompareStatus>;
}

// The services a tool handler may call; nothing else of the engine reaches a handler.
export interface ToolServices {
  readonly tasks: ToolTasks;
  readonly compare: ToolCompare;
  /** The speed tier: one synchronous answer. */
  quick(req: QuickRequest, signal: AbortSignal): Promise<QuickAnswer>;
  /** What server_stats shows; the numbers /metrics also has are read from the metrics registry. */
  stats(viewer?: Viewer): Promise<ServerStats>;
}

// The policy of the guard every call that starts claude passes (tools/call-tool.ts): throws a ToolError when refused.
export interface ToolAdmission {
  admit(tool: string, principal: string, rateKey: string): Promise<void>;
}

// What the hosts (MCP servers, the board, the CLI) get from the composition root, shared by every MCP session of one
// server process. Tool handlers never see it: the guard hands them the services alone.
export interface Engine extends ToolServices {
  readonly serverId: string;
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Daily budgets (the board's ops panel shows each token's spend). */
  readonly spending: Spending;
  /** Rate limits of the calls that start claude: this server's own, or the cluster's (the ops panel shows headroom). */
  readonly rateLimiter: Admission;
  readonly tasks: McpTasks;
  /** The task registry itself, for the hosts that drive it beyond the tools' calls (the CLI, the board, the queue). */
  readonly registry: TaskService;
  /** Budgets, then rate limits, of a call that starts claude. */
  readonly admission: ToolAdmission;
  /** Webhook notifications of task events (notify in the config), if configured. */
  readonly notifier?: Notifier;
  /** The one-tap approval page (GET shows the request, POST decides): served without a login at /tap/; only with
   * notify. */
  readonly tap?: (request: Request) => Promise<Response>;
  /** The claude binary to run now; a ToolError naming every place looked at when none is found. */
  claudeBinary(): ClaudeBinary;
  /** Kills every claude process at once (the watchdog's last resort). */
  killAllSync(): void;
  /** Keeps warm spares for the tiers that ask for them (after the server answers, so start-up never waits). */
  warmSpares(): void;
  dispose(reason?: string): Promise<void>;
}

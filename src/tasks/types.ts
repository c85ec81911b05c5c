import type { Worktree, WorktreeSummary } from '../isolation/worktree.js';
import type { InputRequest } from './input-requests.js';
// Lifecycle of a task (needs_input: waiting for the caller's answer to a permission request); the last five are final. The one list of states and the one list of final ones.
export const TASK_STATES = ['queued', 'running', 'needs_input', 'succeeded', 'failed', 'killed', 'timed_out', 'lost'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['succeeded', 'failed', 'killed', 'timed_out', 'lost']);
export const isFinal = (s: TaskState): boolean => FINAL_STATES.has(s);

// Why a task ended, in words a caller can act on.
export interface EndInfo {
  reason:
    | 'completed'
    | 'error'
    | 'max_turns'
    | 'max_budget'
    | 'killed'
    | 'wall_timeout'
    | 'idle_timeout'
    | 'shutdown'
    | 'lost'
    | 'crashed'
    | 'spawn_failed'
    | 'loop'
    | 'budget'
    | 'output_cap'
    | 'memory';
  message: string;
  by?: string;
}

export interface ToolCallInfo {
  name: string;
  summary: string;
  at: number;
}

export interface TaskStats {
  events: number;
  turns: number;
  toolCalls: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  apiRetries: number;
  lastEventAt?: number;
  /** When the task's first logged event arrived (time to first event = firstEventAt - startedAt). */
  firstEventAt?: number;
  lastMessageId?: string;
  /** Output tokens already counted for lastMessageId (its usage grows as partial messages arrive). */
  lastMessageOutput?: number;
  /** Output tokens per second of running time, updated with each event. */
  tokensPerSecond?: number;
  /** Peak resident memory of the task's process tree, MB (sampled). */
  peakRssMb?: number;
}

export interface TaskResult {
  subtype: string;
  isError: boolean;
  text: string;
  numTurns: number;
  durationMs: number;
  costUsd: number;
  terminalReason?: string;
  apiErrorStatus?: number | null;
  errors?: string[];
  /** With an output schema: the object claude returned. */
  structuredOutput?: unknown;
}

export interface ProcRef {
  pid: number;
  startTime?: string;
  pgid?: number;
}

// What a task's request asked for, kept so a status can show it and a follow-up can resume it.
export interface TaskRequest {
  prompt: string;
  cwd: string;
  model: string;
  tier: string;
  timeoutS: number;
  idleTimeoutS: number;
  maxTurns?: number;
  maxBudgetUsd?: number;
  maxOutputTokens?: number;
  systemPrompt?: string;
  continueTaskId?: string;
  resumeSessionId?: string;
  /** With continueTaskId: branch the session (a new session id) instead of continuing it. */
  fork?: boolean;
  /** JSON Schema of the final answer. */
  outputSchema?: Record<string, unknown>;
  /** "worktree": the task runs in its own git worktree on branch claude-tiers/<id>. */
  isolation?: 'none' | 'worktree';
  keepWorktree?: boolean;
  baseRef?: string;
  /** A follow-up of an isolated task: the branch it continues and the worktree folder it reuses. */
  worktreeOf?: { branchOwner: string; dir: string };
  /** Cluster: the recursion depth of the server that queued it (a worker runs it at least that deep). */
  depth?: number;
}

// The persisted record of one task (record.json), rewritten atomically as it changes.
export interface TaskRecord {
  version: 1;
  id: string;
  state: TaskState;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  updatedAt: number;
  request: TaskRequest;
  /** The server that runs (or, while queued, accepted) the task; host: its machine's name. */
  owner: { serverId: string; pid: number; startTime?: string; host?: string };
  process?: { pid: number; startTime?: string; procs: ProcRef[] };
  sessionId?: string;
  stats: TaskStats;
  tools: ToolCallInfo[];
  lastText: string;
  textTail: string;
  permissionDenials: Array<{ tool: string; input: string }>;
  result?: TaskResult;
  end?: EndInfo;
  clientId?: string;
  /** Who owns the task: "local" (stdio, the CLI) or "token:<name>" (an HTTP bearer token: "default" for the main one). Absent on old records: local. */
  principal?: string;
  /** `routed: comprehensive (...)` when the caller asked for tier "auto". */
  routed?: string;
  /** The task's git worktree while it runs (isolation "worktree"), and what it left on its branch. */
  worktree?: Worktree;
  worktreeSummary?: WorktreeSummary;
  /** The question the task waits on now (state needs_input). */
  inputRequest?: InputRequest;
  /** The model claude fell back to during the run (its --fallback-model), if it did. */
  fallbackModel?: string;
  /** The final answer reads as a refusal. */
  refusal?: boolean;
  /** Cost over time: [ms since start, total USD] at each point claude reported it. */
  costSeries?: Array<[number, number]>;
}

// One compact, human-readable event line kept in memory for task_status.
export interface EventLine {
  seq: number;
  at: number;
  text: string;
}

// Who is asking: tasks belong to the principal that started them; an admin sees every task.
export interface Viewer {
  principal: string;
  admin: boolean;
}

// The principal of the local user (stdio clients and the CLI).
export const LOCAL_PRINCIPAL = 'local';

// Whether a viewer may see and act on a task (no viewer: the server itself).
export const visibleTo = (record: { principal?: string }, viewer: Viewer | undefined): boolean => !viewer || viewer.admin || (record.principal ?? LOCAL_PRINCIPAL) === viewer.principal;

import { z } from 'zod';
import { InputRequestSchema } from './input-request.js';
import { PrincipalSchema } from './principal.js';
import { TaskRequestSchema } from './requests.js';
import { WorktreeSchema, WorktreeSummarySchema } from './worktree.js';

const num = z.number();
const str = z.string();

// Lifecycle of a task (needs_input: waiting for the caller's answer to a permission request); the last five are
// final. The one list of states and the one list of final ones.
const FINAL = ['succeeded', 'failed', 'killed', 'timed_out', 'lost'] as const;
export const TASK_STATES = ['queued', 'running', 'needs_input', ...FINAL] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_STATES: ReadonlySet<TaskState> = new Set<TaskState>(FINAL);
export const isFinal = (s: TaskState): boolean => FINAL_STATES.has(s);

// A task id as deep_task returns it.
export const TASK_ID = /^t_[A-Za-z0-9_-]{4,64}$/;

// Why a task ended, in words a caller can act on.
export const END_REASONS = [
  'completed',
  'error',
  'max_turns',
  'max_budget',
  'killed',
  'wall_timeout',
  'idle_timeout',
  'shutdown',
  'lost',
  'crashed',
  'spawn_failed',
  'loop',
  'budget',
  'output_cap',
  'memory',
] as const;
export const EndInfoSchema = z.object({ reason: z.enum(END_REASONS), message: str, by: str.optional() });
export type EndInfo = z.infer<typeof EndInfoSchema>;

// One tool call of a task, summarized.
export const ToolCallInfoSchema = z.object({ name: str, summary: str, at: num });
export type ToolCallInfo = z.infer<typeof ToolCallInfoSchema>;

// A task's running counters.
export const TaskStatsSchema = z.object({
  events: num,
  turns: num,
  toolCalls: num,
  costUsd: num,
  inputTokens: num,
  outputTokens: num,
  apiRetries: num,
  lastEventAt: num.optional(),
  /** When the task's first logged event arrived (time to first event = firstEventAt - startedAt). */
  firstEventAt: num.optional(),
  lastMessageId: str.optional(),
  /** Output tokens already counted for lastMessageId (its usage grows as partial messages arrive). */
  lastMessageOutput: num.optional(),
  /** Output tokens per second of running time, updated with each event. */
  tokensPerSecond: num.optional(),
  /** Peak resident memory of the task's process tree, MB (sampled). */
  peakRssMb: num.optional(),
});
export type TaskStats = z.infer<typeof TaskStatsSchema>;

// claude's result event, as a task keeps it.
export const TaskResultSchema = z.object({
  subtype: str,
  isError: z.boolean(),
  text: str,
  numTurns: num,
  durationMs: num,
  costUsd: num,
  terminalReason: str.optional(),
  apiErrorStatus: num.nullable().optional(),
  errors: z.array(str).optional(),
  /** With an output schema: the object claude returned. */
  structuredOutput: z.unknown().optional(),
});
export type TaskResult = z.infer<typeof TaskResultSchema>;

// A process of a task's tree, named so a restart can tell it from a reused pid.
export const ProcRefSchema = z.object({ pid: num, startTime: str.optional(), pgid: num.optional() });
export type ProcRef = z.infer<typeof ProcRefSchema>;

// The persisted record of one task (record.json, or a Redis record), rewritten as it changes.
export const TaskRecordSchema = z.object({
  version: z.literal(1),
  id: str.regex(TASK_ID),
  state: z.enum(TASK_STATES),
  createdAt: num,
  startedAt: num.optional(),
  endedAt: num.optional(),
  updatedAt: num,
  request: TaskRequestSchema,
  /** The server that runs (or, while queued, accepted) the task; host: its machine's name. */
  owner: z.object({ serverId: str, pid: num, startTime: str.optional(), host: str.optional() }),
  process: z.object({ pid: num, startTime: str.optional(), procs: z.array(ProcRefSchema) }).optional(),
  sessionId: str.optional(),
  stats: TaskStatsSchema,
  tools: z.array(ToolCallInfoSchema),
  lastText: str,
  textTail: str,
  permissionDenials: z.array(z.object({ tool: str, input: str })),
  result: TaskResultSchema.optional(),
  end: EndInfoSchema.optional(),
  clientId: str.optional(),
  /** Who owns the task: "local" (stdio, the CLI) or "token:<name>". Absent on old records: local. */
  principal: PrincipalSchema.optional(),
  /** `routed: comprehensive (...)` when the caller asked for tier "auto". */
  routed: str.optional(),
  /** The task's git worktree while it runs (isolation "worktree"), and what it left on its branch. */
  worktree: WorktreeSchema.optional(),
  worktreeSummary: WorktreeSummarySchema.optional(),
  /** The question the task waits on now (state needs_input). */
  inputRequest: InputRequestSchema.optional(),
  /** The model claude fell back to during the run (its --fallback-model), if it did. */
  fallbackModel: str.optional(),
  /** The final answer reads as a refusal. */
  refusal: z.boolean().optional(),
  /** Cost over time: [ms since start, total USD] at each point claude reported it. */
  costSeries: z.array(z.tuple([num, num])).optional(),
});
export type TaskRecord = z.infer<typeof TaskRecordSchema>;

// Records are read back from stores other processes write (Redis, another version's disk): fields beyond the
// schema are kept as they are, at the top level.
const StoredRecordSchema = TaskRecordSchema.loose();

// A stored record checked against the schema: the record, or why it is unreadable (one line, first problems).
export function readTaskRecord(value: unknown): { record: TaskRecord } | { unreadable: string } {
  const parsed = StoredRecordSchema.safeParse(value);
  if (parsed.success) return { record: parsed.data };
  const issue = (i: z.core.$ZodIssue) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`;
  return { unreadable: parsed.error.issues.slice(0, 3).map(issue).join('; ') };
}

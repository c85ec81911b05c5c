import { z } from 'zod';
import { TASK_STATES } from './task-record.js';

const num = z.number();
const str = z.string();

// One row of the board's list: what a person scans to pick a task.
export const BoardRowSchema = z.object({
  task_id: str,
  state: z.enum(TASK_STATES),
  tier: str,
  model: str,
  created_at: str,
  elapsed_s: num,
  turns: num,
  cost_usd: num,
  last_tool: str.optional(),
  cwd: str,
  branch: str.optional(),
  prompt_preview: str,
  progress: str,
  needs_input: z.boolean(),
});
export type BoardRow = z.infer<typeof BoardRowSchema>;

// One changed file of an isolated task's branch, against its base commit.
export const FileDiffSchema = z.object({
  path: str,
  added: num,
  removed: num,
  /** The file's part of the unified diff (hunks), cut at a size limit. */
  patch: str,
  binary: z.boolean(),
  /** Tool configuration (a .claude/ hook, .mcp.json, git hooks): what it configures; merge_task refuses it unasked. */
  tool_config: str.optional(),
});
export type FileDiff = z.infer<typeof FileDiffSchema>;

// One point of the operator panel's charts: the mean latency of what finished since the last point, and its cost.
export const OpsPointSchema = z.object({ t: num, quick_s: num.nullable(), task_s: num.nullable(), cost_usd: num });
export type OpsPoint = z.infer<typeof OpsPointSchema>;

// The operator panel: load, spares, breakers, budgets, rate headroom, and the last hour of latency and cost.
export const OpsViewSchema = z.object({
  /** Whose tasks running and queued count: the whole server's for an admin, the caller's own for any other token. */
  scope: z.enum(['server', 'yours']),
  running: num,
  queued: num,
  /** The caller's fair share now (running slots, queue places); null for an admin's server-wide view. */
  share: z.object({ running: num, queue: num }).nullable(),
  spares_ready: num,
  breakers: z.array(z.object({ key: str, state: str })),
  budgets: z.array(z.object({ principal: str, spent_usd: num, limit_usd: num, resets_at: str })),
  rate: z.object({ client: num.nullable(), global: num.nullable() }).nullable(),
  series: z.array(OpsPointSchema),
});
export type OpsView = z.infer<typeof OpsViewSchema>;

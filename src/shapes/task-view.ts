import { z } from 'zod';
import { InputRequestSchema } from './input-request.js';
import { EndInfoSchema, TASK_STATES } from './task-record.js';
import { WorktreeSummarySchema } from './worktree.js';

const num = z.number();
const str = z.string();

// The caller-facing status of a task (task_status, deep_task, kill_task structuredContent).
export const TaskViewSchema = z.object({
  task_id: str,
  state: z.enum(TASK_STATES),
  final: z.boolean(),
  tier: str,
  model: str,
  cwd: str,
  prompt_preview: str,
  created_at: str,
  elapsed_s: num,
  progress: str,
  turns: num,
  tool_calls: num,
  last_tool: str.optional(),
  last_text: str,
  cost_usd: num,
  tokens: z.object({ input: num, output: num }),
  session_id: str.optional(),
  events: z.array(str),
  cursor: num,
  permission_denials: z.array(z.object({ tool: str, input: str })),
  end: EndInfoSchema.optional(),
  result: z
    .object({ text: str, subtype: str, is_error: z.boolean(), num_turns: num, cost_usd: num, duration_ms: num })
    .optional(),
  continue_of: str.optional(),
  store_error: str.optional(),
  routed: str.optional(),
  fallback_model: str.optional(),
  refusal: z.boolean().optional(),
  tokens_per_second: num.optional(),
  peak_rss_mb: num.optional(),
  cost_series: z.array(z.tuple([num, num])).optional(),
  /** isolation "worktree": where the task's work is (its branch, commits, changed files, diffstat; path when kept;
   * what HEAD named when the task moved it, what was not committed, warnings). */
  worktree: WorktreeSummarySchema.partial({ head_commit: true, changed_files: true, diffstat: true }).optional(),
  /** With output_schema: the object claude returned. */
  output: z.unknown().optional(),
  /** The question the task waits on (state needs_input): answer it with answer_task. `input_text` is its input as a
   * person must see it to decide (characters that could hide a part shown escaped, long input shortened). */
  input_request: InputRequestSchema.extend({ input_text: str }).optional(),
  /** The text block claude is writing right now: its length so far and its last characters. */
  writing: z.object({ chars: num, text_tail: str }).optional(),
});
export type TaskView = z.infer<typeof TaskViewSchema>;

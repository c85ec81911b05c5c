import { z } from 'zod';
import { PrincipalSchema } from './principal.js';

const num = z.number();
const str = z.string();

// An image a caller passes with a prompt: a file inside the allowed roots, or base64 data with its type.
export const ImageInputSchema = z.union([z.object({ path: str }), z.object({ data: str, mimeType: str })]);
export type ImageInput = z.infer<typeof ImageInputSchema>;

// Everything a caller may ask of a task (deep_task's fields, in the server's spelling): the one list of them, which
// the submitted request, the stored request and the quick request all take from.
export const TaskAskSchema = z.object({
  prompt: str,
  tier: str.optional(),
  cwd: str.optional(),
  model: str.optional(),
  timeoutS: num.optional(),
  idleTimeoutS: num.optional(),
  maxTurns: num.optional(),
  maxBudgetUsd: num.optional(),
  maxOutputTokens: num.optional(),
  systemPrompt: str.optional(),
  continueTaskId: str.optional(),
  /** With continueTaskId: branch the session (a new session id) instead of continuing it. */
  fork: z.boolean().optional(),
  /** JSON Schema of the final answer. */
  outputSchema: z.record(str, z.unknown()).optional(),
  /** "worktree": the task runs in its own git worktree on branch claude-tiers/<id>. */
  isolation: z.enum(['none', 'worktree']).optional(),
  keepWorktree: z.boolean().optional(),
  baseRef: str.optional(),
});
export type TaskAsk = z.infer<typeof TaskAskSchema>;

// What comes with an ask besides its fields: its images, and who asks (an HTTP token's principal, else the local
// user; the owner of a task, and whose daily budget the spend counts against).
const WithAskSchema = z.object({
  images: z.array(ImageInputSchema).optional(),
  principal: PrincipalSchema.optional(),
});

// What deep_task asks the task service for: the ask, what comes with it, and the client that asks.
export const SubmitRequestSchema = TaskAskSchema.extend(WithAskSchema.shape).extend({ clientId: str.optional() });
export type SubmitRequest = z.infer<typeof SubmitRequestSchema>;

// What a task's request resolved to (tier, model, real cwd and time limits settled), kept in its record so a status
// can show it and a follow-up can resume it.
export const TaskRequestSchema = TaskAskSchema.required({
  cwd: true,
  model: true,
  tier: true,
  timeoutS: true,
  idleTimeoutS: true,
}).extend({
  resumeSessionId: str.optional(),
  /** A follow-up of an isolated task: the branch it continues and the worktree folder it reuses. */
  worktreeOf: z.object({ branchOwner: str, dir: str }).optional(),
  /** Cluster: the recursion depth of the server that queued it (a worker runs it at least that deep). */
  depth: num.optional(),
});
export type TaskRequest = z.infer<typeof TaskRequestSchema>;

// What quick_answer asks the speed tier for: the ask's fields that apply to one synchronous answer, what comes with
// an ask, and whether a cached answer will do.
export const QuickRequestSchema = TaskAskSchema.pick({
  prompt: true,
  model: true,
  cwd: true,
  timeoutS: true,
  systemPrompt: true,
  tier: true,
  outputSchema: true,
  maxBudgetUsd: true,
})
  .extend(WithAskSchema.shape)
  .extend({ cache: z.boolean().optional() });
export type QuickRequest = z.infer<typeof QuickRequestSchema>;

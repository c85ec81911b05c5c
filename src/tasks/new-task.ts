import type { Config } from '../config/schema.js';
import { ToolError } from '../errors.js';
import type { CostModel } from '../cost/cost-model.js';
import type { SubmitRequest } from '../shapes/requests.js';
import { resolveRoute, resolveRun, type ResolvedRun } from '../tier-run/resolve.js';
import { newTaskId } from './ids.js';
import { worktreeOf } from './task-worktree.js';
import { isFinal, LOCAL_PRINCIPAL, type TaskRecord, type Viewer } from './types.js';

// What deep_task asks the task service for (its shape lives in src/shapes).
export type { SubmitRequest };

// Where a new task's facts come from besides the request.
export interface NewTaskContext {
  config: Config;
  owner: TaskRecord['owner'];
  /** A task the caller may see (a follow-up of another principal's task is as unknown as a missing one). */
  findRecord(id: string, viewer: Viewer): TaskRecord | undefined;
  recentIdsHint(): string;
  /** The task (queued or running) working in a folder under <stateDir>/worktrees, if any. */
  folderHolder?(dir: string): string | undefined;
  /** Estimates costs for tier "auto" with a budget. */
  costs: CostModel;
}

// The session of a follow-up: the earlier task's, which must be finished and have a session (its cwd is checked once
// the request is resolved).
function followUp(req: SubmitRequest, ctx: NewTaskContext): { resumeSessionId: string; prev: TaskRecord } {
  const prev = ctx.findRecord(req.continueTaskId!, { principal: req.principal ?? LOCAL_PRINCIPAL, admin: false });
  if (!prev) throw new ToolError(`continue_task_id: no task ${req.continueTaskId}; ${ctx.recentIdsHint()}`);
  if (!isFinal(prev.state))
    throw new ToolError(
      `continue_task_id: task ${prev.id} is still ${prev.state}; wait for it to finish (task_status with wait_s) first`,
    );
  if (!prev.sessionId)
    throw new ToolError(`continue_task_id: task ${prev.id} has no claude session to resume (it never started)`);
  return { resumeSessionId: prev.sessionId, prev };
}

// A new task from a request: its queued record, and the request resolved once (tier, real cwd, model, content; a
// follow-up's images are found from its earlier task's cwd). Every input problem is a ToolError before anything runs.
export async function newTask(
  req: SubmitRequest,
  ctx: NewTaskContext,
  now = Date.now(),
): Promise<{ record: TaskRecord; run: ResolvedRun }> {
  const { tierName, model: picked, routed } = resolveRoute(req, 'comprehensive', ctx.config, ctx.costs);
  const { resumeSessionId, prev } = req.continueTaskId ? followUp(req, ctx) : {};
  // Resolved once: a follow-up's cwd (asked or not) and its images' relative paths are the earlier task's.
  const askedCwd = req.cwd ?? prev?.request.cwd;
  const asked = { tierName, cwd: askedCwd, model: req.model ?? picked, prompt: req.prompt, images: req.images };
  const run = await resolveRun(ctx.config, asked);
  const { tier, cwd } = run;
  if (prev && cwd !== prev.request.cwd)
    throw new ToolError(`cwd: a follow-up runs in the cwd of task ${prev.id} (${prev.request.cwd}); omit cwd`);
  // A kept folder is worked in again as it is: a sandboxed run there needs a clone of its own (a linked worktree's git
  // dir is the user's, writable from the sandbox), and an unsandboxed one a worktree.
  const kept = prev?.worktree && prev.worktreeSummary?.path;
  if (kept && (prev.worktree!.kind === 'clone') !== !!tier.sandbox?.enabled)
    throw new ToolError(
      `tier: task ${prev.id} kept its folder (keep_worktree), made for a ` +
        `tier ${tier.sandbox?.enabled ? 'without' : 'with'} ` +
        `a sandbox; continue it on such a tier (it ran on "${prev.request.tier}")`,
    );
  // Follow-ups of one isolated task share its folder: one at a time, or the first to end removes it under the other.
  const folder = prev && worktreeOf(prev)?.dir;
  const holder = folder && ctx.folderHolder?.(folder);
  if (holder)
    throw new ToolError(
      `continue_task_id: task ${holder} is working in the folder of task ${prev!.id} now (a follow-up of the same ` +
        `task); one task at a time works there: continue once ${holder} has ended (task_status with wait_s)`,
    );
  // A follow-up of an isolated task stays isolated, on its branch; otherwise the call, else the tier, decides.
  const isolation = prev ? (prev.worktree ? 'worktree' : 'none') : (req.isolation ?? tier.isolation);
  if (prev && req.isolation && req.isolation !== isolation)
    throw new ToolError(
      `isolation: a follow-up keeps the isolation of task ${prev.id} ("${isolation}"), since claude resumes ` +
        `a session in the folder it ran in; omit isolation`,
    );
  const record: TaskRecord = {
    version: 1,
    id: newTaskId(now),
    state: 'queued',
    createdAt: now,
    updatedAt: now,
    request: {
      prompt: req.prompt,
      cwd,
      model: run.model,
      tier: tierName,
      timeoutS: req.timeoutS ?? tier.timeoutS,
      idleTimeoutS: req.idleTimeoutS ?? tier.idleTimeoutS,
      maxTurns: req.maxTurns,
      maxBudgetUsd: req.maxBudgetUsd,
      maxOutputTokens: req.maxOutputTokens,
      systemPrompt: req.systemPrompt,
      continueTaskId: req.continueTaskId,
      resumeSessionId,
      ...(req.fork && req.continueTaskId ? { fork: true } : {}),
      ...(req.outputSchema ? { outputSchema: req.outputSchema } : {}),
      ...(isolation === 'worktree'
        ? {
            isolation,
            keepWorktree: req.keepWorktree,
            baseRef: req.baseRef,
            worktreeOf: prev ? worktreeOf(prev) : undefined,
          }
        : {}),
    },
    owner: ctx.owner,
    stats: { events: 0, turns: 0, toolCalls: 0, costUsd: 0, inputTokens: 0, outputTokens: 0, apiRetries: 0 },
    tools: [],
    lastText: '',
    textTail: '',
    permissionDenials: [],
    clientId: req.clientId,
    principal: req.principal ?? LOCAL_PRINCIPAL,
    routed,
  };
  return { record, run };
}

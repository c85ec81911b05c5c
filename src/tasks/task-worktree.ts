import { basename } from 'node:path';
import { requireSandboxTools } from '../isolation/sandbox-check.js';
import type { RepoLocks } from '../isolation/repo-locks.js';
import { finishWorktree, prepareWorktree } from '../isolation/worktree.js';
import type { Leases } from '../leases.js';
import type { LiveTask } from './live-task.js';
import { ToolError } from '../errors.js';
import { isFinal, type TaskRecord } from './types.js';

// What isolating a task needs.
export interface IsolationDeps {
  stateDir: string;
  roots: string[];
  locks: RepoLocks;
  env: NodeJS.ProcessEnv;
}

// The folder claude runs in: the task's own git worktree, a clone of its own when sandboxed (a lease: committed and
// removed when the task ends, however it ends), or its cwd (`cwd`: the request's, as checked again at its start). A
// sandboxed tier without its tools is refused here, before anything is made or started.
export async function leaseWorkdir(
  task: LiveTask,
  cwd: string,
  sandboxed: boolean,
  deps: IsolationDeps,
  leases: Leases,
): Promise<string> {
  const req = task.record.request;
  if (sandboxed) requireSandboxTools(deps.env);
  if (req.isolation !== 'worktree') return cwd;
  // The folder is held first and let go last (leases are released newest first): after the worktree is finished.
  leases.add('worktree folder', holdFolder(deps.locks, req.worktreeOf?.dir ?? task.id, task.id, req.continueTaskId));
  const wt = await prepareWorktree(
    {
      cwd,
      taskId: task.id,
      stateDir: deps.stateDir,
      baseRef: req.baseRef,
      continueTaskId: req.worktreeOf?.branchOwner,
      dirName: req.worktreeOf?.dir,
      roots: deps.roots,
      clone: sandboxed,
    },
    { locks: deps.locks },
  );
  task.update((r) => (r.worktree = wt));
  leases.add('worktree', async () => {
    const summary = await finishWorktree(
      wt,
      { keep: !!req.keepWorktree, reason: task.stopped?.reason ?? 'ended' },
      { locks: deps.locks },
    );
    task.update((r) => (r.worktreeSummary = summary));
  });
  return wt.cwdInWorktree;
}

// The task (queued or running here) that works in a folder, if any: a follow-up is refused while one does.
export function folderHolder(locks: RepoLocks, dir: string, among: TaskRecord[]): string | undefined {
  return (
    locks.folderHolder(dir) ??
    among.find((r) => !isFinal(r.state) && r.request.isolation === 'worktree' && folderOf(r) === dir)?.id
  );
}

const folderOf = (r: TaskRecord): string => r.request.worktreeOf?.dir ?? r.id;

// Takes a folder for one task, from before its worktree is made until it is finished (committed and removed or kept);
// a second task on it is refused, naming the holder. Returns the release (idempotent).
function holdFolder(locks: RepoLocks, dir: string, taskId: string, continueTaskId: string | undefined): () => void {
  const held = locks.holdFolder(dir, taskId);
  if ('heldBy' in held)
    throw new ToolError(
      `continue_task_id: task ${held.heldBy} is working in the folder of task ${continueTaskId ?? dir} now; ` +
        `one task at a time works in a folder: continue once ${held.heldBy} has ended (task_status with wait_s)`,
    );
  return held.release;
}

// A follow-up of an isolated task continues on its branch, in the same folder (claude resumes sessions per cwd).
export function worktreeOf(prev: TaskRecord): TaskRecord['request']['worktreeOf'] {
  if (!prev.worktree) return undefined;
  return { branchOwner: prev.worktree.branch.replace(/^claude-tiers\//, ''), dir: basename(prev.worktree.path) };
}

import { basename } from 'node:path';
import { requireSandboxTools } from '../isolation/sandbox-check.js';
import type { RepoLocks } from '../isolation/repo-locks.js';
import { finishWorktree, prepareWorktree } from '../isolation/worktree.js';
import type { Leases } from '../leases.js';
import type { LiveTask } from './live-task.js';
import type { TaskRecord } from './types.js';

// What isolating a task needs.
export interface IsolationDeps {
  stateDir: string;
  roots: string[];
  locks: RepoLocks;
  env: NodeJS.ProcessEnv;
}

// The folder claude runs in: the task's own git worktree, a clone of its own when sandboxed (a lease: committed and removed when the task ends, however it
// ends), or its cwd. A sandboxed tier without its tools is refused here, before anything is made or started.
export async function leaseWorkdir(
  task: LiveTask,
  sandboxed: boolean,
  deps: IsolationDeps,
  leases: Leases,
): Promise<string> {
  const req = task.record.request;
  if (sandboxed) requireSandboxTools(deps.env);
  if (req.isolation !== 'worktree') return req.cwd;
  const wt = await prepareWorktree(
    {
      cwd: req.cwd,
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

// A follow-up of an isolated task continues on its branch, in the same folder (claude resumes sessions per cwd).
export function worktreeOf(prev: TaskRecord): TaskRecord['request']['worktreeOf'] {
  if (!prev.worktree) return undefined;
  return { branchOwner: prev.worktree.branch.replace(/^claude-tiers\//, ''), dir: basename(prev.worktree.path) };
}

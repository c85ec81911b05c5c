import { existsSync } from 'node:fs';
import { mkdir, realpath, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathInsideRoots } from '../cwd.js';
import { ToolError } from '../errors.js';
import { git, GitError, type GitOptions } from './git.js';
import type { RepoLocks } from './repo-locks.js';
import { commitAll, summarize, type WorktreeSummary } from './worktree-commit.js';

export type { WorktreeSummary } from './worktree-commit.js';

// What prepare needs from the engine: its per-repository locks and how to run git.
export interface WorktreeDeps {
  locks: RepoLocks;
  git?: GitOptions;
}

// One task's worktree; plain data, so the engine can store it in the task record and recover it after a crash.
export interface Worktree {
  taskId: string;
  path: string;
  branch: string;
  baseCommit: string;
  repoRoot: string;
  /** The repository's common git dir: the key of its lock. */
  gitDir: string;
  /** The task's cwd inside the worktree: the same subdirectory of the repository as the cwd asked for. */
  cwdInWorktree: string;
  /** False when a follow-up task re-opened an earlier task's branch: then the branch is never deleted. */
  createdBranch: boolean;
}

export interface PrepareOptions {
  cwd: string;
  taskId: string;
  stateDir: string;
  baseRef?: string;
  /** continue_task_id: check out the earlier task's branch claude-tiers/<id> instead of making a new one. */
  continueTaskId?: string;
  /** The folder name under <stateDir>/worktrees (default: taskId); a follow-up reuses its first task's, so claude's
   * session (stored per cwd) can be resumed there. */
  dirName?: string;
  /** The repository's root must lie inside these (a worktree copies the whole repository, not only the cwd). */
  roots?: string[];
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,100}$/;
// The branch a task's work lives on.
export const branchFor = (taskId: string): string => `claude-tiers/${taskId}`;

async function repoOf(cwd: string, opts: GitOptions | undefined): Promise<{ root: string; gitDir: string; rel: string }> {
  let out: string;
  try {
    out = await git(cwd, ['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir'], opts);
  } catch (err) {
    if (err instanceof GitError) throw new ToolError(`isolation: ${cwd} is not inside a git repository (isolation "worktree" needs one; run git init, or use isolation "none")`);
    throw err;
  }
  const [root, gitDir] = out.trim().split('\n');
  const rel = relative(await realpath(root!), await realpath(cwd));
  if (rel.startsWith('..')) throw new ToolError(`isolation: ${cwd} is outside its repository ${root}`);
  return { root: root!, gitDir: resolve(gitDir!), rel };
}

async function branchExists(repo: string, branch: string, opts: GitOptions | undefined): Promise<boolean> {
  return git(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], opts).then(
    () => true,
    () => false,
  );
}

// Makes a new worktree for a task under <stateDir>/worktrees/<taskId> on branch claude-tiers/<taskId> (or, for a
// follow-up, on the earlier task's branch); the user's working tree, index and HEAD are never touched.
export async function prepareWorktree(o: PrepareOptions, deps: WorktreeDeps): Promise<Worktree> {
  for (const id of [o.taskId, o.continueTaskId, o.dirName]) if (id !== undefined && !SAFE_ID.test(id)) throw new ToolError(`isolation: task id "${id}" cannot name a branch`);
  const { root, gitDir, rel } = await repoOf(o.cwd, deps.git);
  if (o.roots && !pathInsideRoots(root, o.roots, root)) throw new ToolError(`isolation: the repository of ${o.cwd} is ${root}, outside the allowed roots; a worktree would copy all of it. Use isolation "none", or ask the operator to add ${root} as a root`);
  const path = join(resolve(o.stateDir), 'worktrees', o.dirName ?? o.taskId);
  const branch = branchFor(o.continueTaskId ?? o.taskId);
  await mkdir(join(resolve(o.stateDir), 'worktrees'), { recursive: true, mode: 0o700 });
  return deps.locks.with(gitDir, async () => {
    const reuse = o.continueTaskId !== undefined && (await branchExists(root, branch, deps.git));
    let baseCommit: string;
    if (reuse) {
      baseCommit = (await git(root, ['rev-parse', `refs/heads/${branch}^{commit}`], deps.git)).trim();
      // The earlier task kept its worktree (keep_worktree): the follow-up works in it, on the same branch.
      const kept = (await git(root, ['worktree', 'list', '--porcelain'], deps.git)).split('\n').some((l) => l === `worktree ${path}`);
      if (!kept) await git(root, ['worktree', 'add', path, branch], deps.git);
    } else {
      const ref = o.baseRef ?? 'HEAD';
      try {
        baseCommit = (await git(root, ['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`], deps.git)).trim();
      } catch {
        throw new ToolError(`isolation: base_ref "${ref}" is not a commit in ${root}${ref === 'HEAD' ? ' (a repository needs one commit first)' : ''}`);
      }
      if (await branchExists(root, branch, deps.git)) throw new ToolError(`isolation: branch ${branch} already exists in ${root}`);
      // The branch first, then the worktree: a `worktree add` that raced another one on this repository (another
      // server's, without our lock) is retried by git() as is, which `worktree add -b` could not be (its branch exists).
      await git(root, ['branch', branch, baseCommit], deps.git);
      try {
        await git(root, ['worktree', 'add', path, branch], deps.git);
      } catch (err) {
        await git(root, ['branch', '-D', branch], deps.git).catch(() => undefined);
        throw err;
      }
    }
    const cwdInWorktree = rel ? join(path, rel) : path;
    await mkdir(cwdInWorktree, { recursive: true });
    return { taskId: o.taskId, path, branch, baseCommit, repoRoot: root, gitDir, cwdInWorktree, createdBranch: !reuse };
  });
}

async function removeWorktree(wt: Worktree, deps: WorktreeDeps): Promise<void> {
  await deps.locks.with(wt.gitDir, async () => {
    if (existsSync(wt.path)) {
      try {
        await git(wt.repoRoot, ['worktree', 'remove', '--force', '--force', wt.path], deps.git);
      } catch {
        // A worktree git no longer knows, or files it cannot remove: delete the folder and let prune drop the entry.
        await rm(wt.path, { recursive: true, force: true });
      }
    }
    await git(wt.repoRoot, ['worktree', 'prune'], deps.git);
  });
}

// Ends a task's worktree, however the task ended: commits everything left in it to its branch, summarizes the
// branch against its base, removes the worktree unless keep, and deletes a branch that holds no change of this task.
export async function finishWorktree(wt: Worktree, opts: { keep: boolean; reason?: string }, deps: WorktreeDeps): Promise<WorktreeSummary> {
  if (existsSync(wt.path)) await commitAll(wt.path, `claude-tiers: task ${wt.taskId}${opts.reason ? ` (${opts.reason})` : ''}`, deps.git);
  const summary = await summarize(wt, deps.git);
  if (opts.keep && existsSync(wt.path)) return { ...summary, path: wt.path };
  await removeWorktree(wt, deps);
  if (summary.head_commit === wt.baseCommit && wt.createdBranch) {
    await deps.locks.with(wt.gitDir, () => git(wt.repoRoot, ['branch', '-D', wt.branch], deps.git));
    return { ...summary, branch: null };
  }
  return summary;
}

// A lost task (its server died): what is in its worktree is committed to its branch, the worktree removed and
// pruned (no stale `git worktree list` entry); the branch stays, unless the task changed nothing.
export async function recoverWorktree(wt: Worktree, deps: WorktreeDeps): Promise<WorktreeSummary> {
  return finishWorktree(wt, { keep: false, reason: 'lost: recovered after its server died' }, deps);
}


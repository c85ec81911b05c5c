import { git, GitError, type GitOptions } from './git.js';

// What a task's worktree left behind, as the task's result and task_status carry it.
export interface WorktreeSummary {
  /** The branch holding the task's work; null when the task changed nothing and its branch was deleted. */
  branch: string | null;
  base_commit: string;
  head_commit: string;
  changed_files: string[];
  diffstat: string;
  /** Only when the worktree was kept (keep_worktree). */
  path?: string;
}

const IDENTITY = { GIT_AUTHOR_NAME: 'claude-tiers', GIT_AUTHOR_EMAIL: 'claude-tiers@localhost', GIT_COMMITTER_NAME: 'claude-tiers', GIT_COMMITTER_EMAIL: 'claude-tiers@localhost' };

// Commits every change in a worktree, untracked files included (ignored ones are not), without running the
// repository's hooks or signing; returns false when there was nothing to commit.
export async function commitAll(path: string, message: string, opts: GitOptions = {}): Promise<boolean> {
  await git(path, ['add', '--all'], opts);
  const staged = await git(path, ['diff', '--cached', '--quiet'], { ...opts, lockRetries: 0 }).then(
    () => false,
    (err) => {
      if (err instanceof GitError && err.exitCode === 1) return true;
      throw err;
    },
  );
  if (!staged) return false;
  const hasIdentity = await git(path, ['config', '--get', 'user.email'], opts).then(
    (s) => s.trim().length > 0,
    () => false,
  );
  const env = hasIdentity ? opts.env : { ...(opts.env ?? process.env), ...IDENTITY };
  await git(path, ['-c', 'commit.gpgsign=false', 'commit', '--no-verify', '--quiet', '-m', message], { ...opts, env });
  return true;
}

// The branch's state against its base: head, the files that differ, and git's diffstat.
export async function summarize(wt: { repoRoot: string; branch: string; baseCommit: string }, opts: GitOptions = {}): Promise<WorktreeSummary> {
  const head = (await git(wt.repoRoot, ['rev-parse', `refs/heads/${wt.branch}^{commit}`], opts)).trim();
  const names = await git(wt.repoRoot, ['diff', '--name-only', '-z', wt.baseCommit, head], opts);
  const stat = await git(wt.repoRoot, ['diff', '--stat', wt.baseCommit, head], opts);
  return { branch: wt.branch, base_commit: wt.baseCommit, head_commit: head, changed_files: names.split('\0').filter(Boolean), diffstat: stat.trim() };
}

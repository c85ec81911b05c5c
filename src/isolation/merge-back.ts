import { ToolError } from '../errors.js';
import { git, GitError, type GitOptions } from './git.js';
import type { RepoLocks } from './repo-locks.js';
import { toolConfigFiles } from './tool-config.js';

// How a task's branch goes back: a merge commit (two parents) or one squashed commit on the target.
export type MergeStrategy = 'merge' | 'squash';

// What merge_task is asked to do with one task's branch.
export interface MergeBackRequest {
  repoRoot: string;
  /** The repository's common git dir: the key of its lock. */
  gitDir: string;
  /** The task's branch, refs/heads/<branch>. */
  branch: string;
  strategy: MergeStrategy;
  /** The branch to merge into; default: the branch checked out in the repository's main worktree. */
  into?: string;
  message: string;
  /** Merge even when the branch adds or changes tool configuration (.claude/, .mcp.json, git hooks...). */
  allowToolConfig?: boolean;
}

// A file of tool configuration the branch adds or changes, and what it configures.
export interface ToolConfigFile {
  path: string;
  reason: string;
}

// What happened: merged (and how the target moved), or refused with the files that stand in the way.
export type MergeBackOutcome =
  | {
      merged: true;
      into: string;
      strategy: MergeStrategy;
      commit: string;
      previous: string;
      /** "worktree": the target was checked out (clean) and its files were brought along; "ref": only the ref moved. */
      moved: 'worktree' | 'ref';
      worktree?: string;
      files: string[];
      /** Tool configuration brought in (allowed by the caller): it now configures the user's tools. */
      tool_config?: ToolConfigFile[];
    }
  | { merged: false; reason: 'tool_config'; into: string; tool_config: ToolConfigFile[] }
  | { merged: false; reason: 'up_to_date'; into: string; commit: string }
  | { merged: false; reason: 'conflict'; into: string; conflicts: string[] }
  | { merged: false; reason: 'dirty'; into: string; worktree: string; dirty: string[] }
  | { merged: false; reason: 'moved'; into: string };

const IDENTITY = {
  GIT_AUTHOR_NAME: 'claude-tiers',
  GIT_AUTHOR_EMAIL: 'claude-tiers@localhost',
  GIT_COMMITTER_NAME: 'claude-tiers',
  GIT_COMMITTER_EMAIL: 'claude-tiers@localhost',
};

const rev = async (repo: string, ref: string, opts?: GitOptions): Promise<string> =>
  (await git(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], opts)).trim();

// The branch the repository's main worktree has checked out, or a ToolError naming the fix (a detached HEAD).
async function defaultTarget(repoRoot: string, opts?: GitOptions): Promise<string> {
  const head = await git(repoRoot, ['symbolic-ref', '-q', 'HEAD'], opts).catch(() => '');
  if (!head.trim().startsWith('refs/heads/')) {
    throw new ToolError(`into: ${repoRoot} has a detached HEAD; name the branch to merge into (into: "main")`);
  }
  return head.trim().slice('refs/heads/'.length);
}

async function checkBranchName(repoRoot: string, name: string, opts?: GitOptions): Promise<void> {
  const ok = await git(repoRoot, ['check-ref-format', '--branch', name], opts).then(
    () => true,
    () => false,
  );
  if (!ok || name.startsWith('-')) throw new ToolError(`into: "${name}" is not a valid branch name`);
}

// The merge worked out in git's object store alone (merge-tree --write-tree): the tree, or the conflicting files.
async function mergeTree(repoRoot: string, ours: string, theirs: string, opts?: GitOptions) {
  try {
    const out = await git(
      repoRoot,
      ['merge-tree', '--write-tree', '--name-only', '-z', '--no-messages', ours, theirs],
      {
        ...opts,
        lockRetries: 0,
      },
    );
    return { tree: out.split('\0')[0]!, conflicts: [] as string[] };
  } catch (err) {
    // Exit 1: conflicts. The output is the (conflicted) tree, then one name per conflicting file.
    if (!(err instanceof GitError) || err.exitCode !== 1 || !err.stdout) throw err;
    const [, ...names] = err.stdout.split('\0');
    return { tree: undefined, conflicts: [...new Set(names.filter(Boolean))] };
  }
}

// The worktree (main or linked) that has `branch` checked out, if any.
async function checkedOutIn(repoRoot: string, branch: string, opts?: GitOptions): Promise<string | undefined> {
  const list = await git(repoRoot, ['worktree', 'list', '--porcelain', '-z'], opts);
  let path: string | undefined;
  for (const field of list.split('\0')) {
    if (field.startsWith('worktree ')) path = field.slice('worktree '.length);
    else if (field === `branch refs/heads/${branch}`) return path;
  }
  return undefined;
}

// The user's uncommitted work in a worktree that the merge would touch: every tracked change (staged or not), and the
// untracked or ignored files (or folders) at paths the merge writes. Read with status in read-only mode (no index
// refresh is written).
async function dirtyFiles(worktree: string, touched: Set<string>, opts?: GitOptions): Promise<string[]> {
  // --ignored=matching: an ignored file (a .env) where the merge writes is the user's too, and stored nowhere else.
  const args = ['status', '--porcelain=v1', '-z', '--untracked-files=normal', '--ignored=matching', '--no-renames'];
  const out = await git(worktree, args, opts);
  const dirty: string[] = [];
  for (const entry of out.split('\0')) {
    if (entry.length < 4) continue;
    const code = entry.slice(0, 2);
    const path = entry.slice(3);
    const untracked = code === '??' || code === '!!';
    // A folder (untracked or ignored as a whole) stands in the way when the merge writes below it.
    const inWay = touched.has(path) || (path.endsWith('/') && [...touched].some((t) => t.startsWith(path)));
    if (!untracked || inWay) dirty.push(path);
  }
  return dirty;
}

// Merges a task's branch into a target branch without touching any working tree but a clean one that has the target
// checked out: the result is computed in the object store, a conflict changes nothing, a checked-out target with
// uncommitted changes is refused, and the target ref moves only by compare-and-swap from the value the merge was
// computed on.
export async function mergeBack(
  req: MergeBackRequest,
  locks: RepoLocks,
  opts: GitOptions = {},
): Promise<MergeBackOutcome> {
  const into = req.into ?? (await defaultTarget(req.repoRoot, opts));
  await checkBranchName(req.repoRoot, into, opts);
  if (into === req.branch)
    throw new ToolError(`into: "${into}" is the task's own branch; name the branch to merge into`);
  // A task branch (another task's, maybe another principal's, maybe checked out in a running task) is never a target.
  if (into.startsWith('claude-tiers/'))
    throw new ToolError(`into: "${into}" is a task's branch; merge into one of your own branches`);
  return locks.with(req.gitDir, async () => {
    const target = await rev(req.repoRoot, `refs/heads/${into}`, opts).catch(() => {
      throw new ToolError(`into: there is no branch "${into}" in ${req.repoRoot}`);
    });
    const theirs = await rev(req.repoRoot, `refs/heads/${req.branch}`, opts).catch(() => {
      throw new ToolError(`task_id: its branch ${req.branch} is gone from ${req.repoRoot}`);
    });
    const contained = await git(req.repoRoot, ['merge-base', '--is-ancestor', theirs, target], opts).then(
      () => true,
      () => false,
    );
    if (contained) return { merged: false, reason: 'up_to_date', into, commit: target };
    const { tree, conflicts } = await mergeTree(req.repoRoot, target, theirs, opts);
    if (!tree) return { merged: false, reason: 'conflict', into, conflicts };
    // Nothing of the task's is missing from the target (a squash merged before): no empty commit.
    if (tree === (await git(req.repoRoot, ['rev-parse', `${target}^{tree}`], opts)).trim()) {
      return { merged: false, reason: 'up_to_date', into, commit: target };
    }
    const files = (await git(req.repoRoot, ['diff', '--name-only', '-z', '--no-renames', target, tree], opts))
      .split('\0')
      .filter(Boolean);
    // Files the user's tools would run commands from (a hook in .claude/settings.json): only when asked for by name.
    const toolConfig = toolConfigFiles(files);
    if (toolConfig.length && !req.allowToolConfig)
      return { merged: false, reason: 'tool_config', into, tool_config: toolConfig };
    const parents = req.strategy === 'merge' ? ['-p', target, '-p', theirs] : ['-p', target];
    const env = { ...(opts.env ?? process.env), ...IDENTITY };
    const commit = (
      await git(req.repoRoot, ['commit-tree', tree, ...parents, '-m', req.message], { ...opts, env })
    ).trim();
    const worktree = await checkedOutIn(req.repoRoot, into, opts);
    const base = {
      into,
      strategy: req.strategy,
      commit,
      previous: target,
      files,
      ...(toolConfig.length ? { tool_config: toolConfig } : {}),
    };
    const reflog = `claude-tiers: ${req.strategy} ${req.branch}`;
    if (!worktree) {
      const moved = await casRef(req.repoRoot, into, commit, target, reflog, opts);
      return moved ? { merged: true, moved: 'ref', ...base } : { merged: false, reason: 'moved', into };
    }
    const dirty = await dirtyFiles(worktree, new Set(files), opts);
    if (dirty.length) return { merged: false, reason: 'dirty', into, worktree, dirty };
    // Clean and checked out: its index and files go from the target's tree to the merge's (read-tree refuses to
    // overwrite anything it did not expect), then the ref moves; a ref that moved meanwhile puts the files back.
    await git(worktree, ['read-tree', '-m', '-u', target, commit], opts);
    if (await casRef(req.repoRoot, into, commit, target, reflog, opts)) {
      return { merged: true, moved: 'worktree', worktree, ...base };
    }
    await git(worktree, ['read-tree', '-m', '-u', commit, target], opts).catch(() => undefined);
    return { merged: false, reason: 'moved', into };
  });
}

// update-ref from an expected old value: false when the ref no longer holds it.
async function casRef(repo: string, branch: string, to: string, from: string, why: string, opts?: GitOptions) {
  return git(repo, ['update-ref', '-m', why, `refs/heads/${branch}`, to, from], { ...opts, lockRetries: 0 }).then(
    () => true,
    (err) => {
      if (err instanceof GitError) return false;
      throw err;
    },
  );
}

// The files on which two branches of one repository would conflict if both were merged (empty: they merge cleanly),
// worked out with merge-tree in the object store, so nothing on disk changes.
export async function conflictsBetween(
  repoRoot: string,
  a: string,
  b: string,
  opts: GitOptions = {},
): Promise<string[]> {
  return (await mergeTree(repoRoot, `refs/heads/${a}`, `refs/heads/${b}`, opts)).conflicts;
}

// Which pairs of branches (of tasks on one repository) would conflict if both were merged; at most `max` compared.
export async function conflictsAmong(
  repoRoot: string,
  branches: string[],
  opts: GitOptions = {},
  max = 20,
): Promise<Array<{ a: string; b: string; files: string[] }>> {
  const list = branches.slice(0, max);
  const out: Array<{ a: string; b: string; files: string[] }> = [];
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const files = await conflictsBetween(repoRoot, list[i]!, list[j]!, opts);
      if (files.length) out.push({ a: list[i]!, b: list[j]!, files });
    }
  }
  return out;
}

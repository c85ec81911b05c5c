import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, realpath, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathInsideRoots } from '../cwd.js';
import { ToolError } from '../errors.js';
import type { Worktree } from '../shapes/worktree.js';
import { git, GitError, type GitOptions } from './git.js';
import type { RepoLocks } from './repo-locks.js';
import { casRef, isAncestor, readRef, sealCommit, summarize, type WorktreeSummary } from './worktree-commit.js';

export type { WorktreeSummary } from './worktree-commit.js';

// What prepare needs from the engine: its per-repository locks and how to run git.
export interface WorktreeDeps {
  locks: RepoLocks;
  git?: GitOptions;
}

// One task's worktree; plain data, so the engine can store it in the task record and recover it after a crash.
export type { Worktree };

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
  /** The repository's root and its common git dir must lie inside these (a worktree copies the whole repository). */
  roots?: string[];
  /** A clone of its own instead of a linked worktree (the sandboxed tier: see Worktree.kind). */
  clone?: boolean;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,100}$/;
// The branch a task's work lives on.
export const branchFor = (taskId: string): string => `claude-tiers/${taskId}`;

async function repoOf(
  cwd: string,
  opts: GitOptions | undefined,
): Promise<{ root: string; gitDir: string; rel: string }> {
  let out: string;
  try {
    out = await git(cwd, ['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir'], opts);
  } catch (err) {
    if (err instanceof GitError)
      throw new ToolError(
        `isolation: ${cwd} is not inside a git repository (isolation "worktree" needs one; run git init, or ` +
          `use isolation "none")`,
      );
    throw err;
  }
  const [root, gitDir] = out.trim().split('\n');
  const rel = relative(await realpath(root!), await realpath(cwd));
  if (rel.startsWith('..')) throw new ToolError(`isolation: ${cwd} is outside its repository ${root}`);
  return { root: root!, gitDir: await realpath(resolve(gitDir!)), rel };
}

async function branchExists(gitDir: string, branch: string, opts: GitOptions | undefined): Promise<boolean> {
  return (await readRef(gitDir, `refs/heads/${branch}`, opts)) !== undefined;
}

// A repository of the task's own at path: git init (no template: no sample hooks), the user's objects as a read-only
// alternate, only the task's branch, checked out. Nothing of the user's .git is writable from it.
async function makeClone(
  path: string,
  gitDir: string,
  branch: string,
  commit: string,
  opts: GitOptions | undefined,
): Promise<void> {
  await git(resolve(path, '..'), ['init', '--quiet', '--template=', path], opts);
  await mkdir(join(path, '.git', 'objects', 'info'), { recursive: true });
  await writeFile(join(path, '.git', 'objects', 'info', 'alternates'), `${join(gitDir, 'objects')}\n`);
  const clone = join(path, '.git');
  await git(path, ['--git-dir', clone, 'update-ref', `refs/heads/${branch}`, commit], opts);
  await git(path, ['--git-dir', clone, 'symbolic-ref', 'HEAD', `refs/heads/${branch}`], opts);
  await git(path, ['reset', '--quiet', '--hard', 'HEAD'], opts);
}

// What claude's sandbox left in a repository's .git when a sandboxed task ran in a linked worktree of it (before
// sandboxed tasks had clones of their own): empty files it mounted over and empty folders it made. Removed only while
// still empty, so nothing of the user's is ever lost.
const LEFTOVER_FILES = ['config.worktree', 'objects/info/alternates'];
const LEFTOVER_DIRS = [
  'glab-cli',
  '.claude-sandbox-noreplace',
  'info/.claude-sandbox-noreplace',
  'objects/info/.claude-sandbox-noreplace',
  'objects/info/commit-graphs/.claude-sandbox-noreplace',
];

// Removes those leftovers from the user's common git dir (under its lock).
export async function removeSandboxLeftovers(gitDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const f of LEFTOVER_FILES) {
    const s = await lstat(join(gitDir, f)).catch(() => undefined);
    if (s?.isFile() && s.size === 0)
      await rm(join(gitDir, f)).then(
        () => removed.push(f),
        () => undefined,
      );
  }
  for (const d of LEFTOVER_DIRS)
    await rmdir(join(gitDir, d)).then(
      () => removed.push(`${d}/`),
      () => undefined,
    );
  return removed;
}

// Makes a new worktree for a task under <stateDir>/worktrees/<taskId> on branch claude-tiers/<taskId> (or, for a
// follow-up, on the earlier task's branch); the user's working tree, index and HEAD are never touched.
export async function prepareWorktree(o: PrepareOptions, deps: WorktreeDeps): Promise<Worktree> {
  for (const id of [o.taskId, o.continueTaskId, o.dirName])
    if (id !== undefined && !SAFE_ID.test(id)) throw new ToolError(`isolation: task id "${id}" cannot name a branch`);
  const { root, gitDir, rel } = await repoOf(o.cwd, deps.git);
  if (o.roots && !pathInsideRoots(root, o.roots, root))
    throw new ToolError(
      `isolation: the repository of ${o.cwd} is ${root}, outside the allowed roots; a worktree would copy ` +
        `all of it. Use isolation "none", or ask the operator to add ${root} as a root`,
    );
  // A .git file (gitdir: /elsewhere) would make the worktree one of a repository outside the roots.
  if (o.roots && !pathInsideRoots(gitDir, o.roots, gitDir))
    throw new ToolError(
      `isolation: the git directory of ${o.cwd} is ${gitDir}, outside the allowed roots; a worktree would ` +
        `be one of that repository. Use isolation "none", or ask the operator to add it as a root`,
    );
  const path = join(resolve(o.stateDir), 'worktrees', o.dirName ?? o.taskId);
  const branch = branchFor(o.continueTaskId ?? o.taskId);
  const kind = o.clone ? 'clone' : 'worktree';
  await mkdir(join(resolve(o.stateDir), 'worktrees'), { recursive: true, mode: 0o700 });
  return deps.locks.with(gitDir, async () => {
    if (kind === 'clone') await removeSandboxLeftovers(gitDir);
    const reuse = o.continueTaskId !== undefined && (await branchExists(gitDir, branch, deps.git));
    let baseCommit: string;
    if (reuse) {
      baseCommit = (await git(root, ['rev-parse', '--verify', `refs/heads/${branch}^{commit}`], deps.git)).trim();
      if (kind === 'clone') {
        // A kept clone (keep_worktree) is worked in again; its files are the earlier task's, committed already. Only
        // a clone: a linked worktree kept there has the user's git dir, which the sandbox leaves writable.
        if (!existsSync(path)) await makeClone(path, gitDir, branch, baseCommit, deps.git);
        else if (!(await lstat(join(path, '.git')).catch(() => undefined))?.isDirectory())
          throw new ToolError(
            `isolation: ${path} is not a clone of this task's own; a sandboxed run cannot work in it`,
          );
      } else {
        // The earlier task kept its worktree (keep_worktree): the follow-up works in it, on the same branch.
        const kept = (await git(root, ['worktree', 'list', '--porcelain'], deps.git))
          .split('\n')
          .some((l) => l === `worktree ${path}`);
        if (!kept) await git(root, ['worktree', 'add', path, branch], deps.git);
      }
    } else {
      const ref = o.baseRef ?? 'HEAD';
      try {
        baseCommit = (
          await git(root, ['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`], deps.git)
        ).trim();
      } catch {
        throw new ToolError(
          `isolation: base_ref "${ref}" is not a commit ` +
            `in ${root}${ref === 'HEAD' ? ' (a repository needs one commit first)' : ''}`,
        );
      }
      if (await branchExists(gitDir, branch, deps.git))
        throw new ToolError(`isolation: branch ${branch} already exists in ${root}`);
      // The branch first (created by compare-and-swap: it must not exist), then the worktree: a `worktree add` that
      // raced another one on this repository (another server's, without our lock) is retried by git() as is.
      await casRef(gitDir, `refs/heads/${branch}`, baseCommit, '', deps.git);
      try {
        if (kind === 'clone') await makeClone(path, gitDir, branch, baseCommit, deps.git);
        else await git(root, ['worktree', 'add', path, branch], deps.git);
      } catch (err) {
        await casRef(gitDir, `refs/heads/${branch}`, '', baseCommit, deps.git).catch(() => undefined);
        if (kind === 'clone') await rm(path, { recursive: true, force: true });
        throw err;
      }
    }
    const cwdInWorktree = rel ? join(path, rel) : path;
    await mkdir(cwdInWorktree, { recursive: true });
    const adminDir =
      kind === 'worktree' ? (await git(path, ['rev-parse', '--absolute-git-dir'], deps.git)).trim() : undefined;
    return {
      taskId: o.taskId,
      path,
      branch,
      baseCommit,
      repoRoot: root,
      gitDir,
      cwdInWorktree,
      createdBranch: !reuse,
      kind,
      ...(adminDir ? { adminDir } : {}),
    };
  });
}

async function removeWorktree(wt: Worktree, deps: WorktreeDeps): Promise<void> {
  await deps.locks.with(wt.gitDir, async () => {
    // Removed by the server itself (rm never follows a symlink), not by `git worktree remove`, which reads the
    // worktree's own git dir; prune then drops the entry.
    await rm(wt.path, { recursive: true, force: true });
    if (wt.kind !== 'clone') await git(wt.repoRoot, ['worktree', 'prune'], deps.git);
  });
}

// A small file of the task's tree read as bytes, never through a symlink; undefined when it is not a regular file.
async function readPlain(path: string): Promise<string | undefined> {
  const s = await lstat(path).catch(() => undefined);
  if (!s?.isFile() || s.size > 4096) return undefined;
  return readFile(path, 'utf8');
}

// What the worktree's HEAD names, when it is not the task's branch (read as data: git list, or the clone's file).
async function movedHead(wt: Worktree, deps: WorktreeDeps): Promise<string | undefined> {
  const expected = `refs/heads/${wt.branch}`;
  let names: string;
  if (wt.kind === 'clone') {
    const head = (await readPlain(join(wt.path, '.git', 'HEAD')))?.trim() ?? '';
    if (head === `ref: ${expected}`) return undefined;
    names = head.startsWith('ref: ')
      ? head.slice(5)
      : head
        ? `a detached commit ${head.slice(0, 40)}`
        : 'nothing readable';
  } else {
    const list = (await git(wt.repoRoot, ['worktree', 'list', '--porcelain'], deps.git)).split('\n\n');
    const entry = list.find((b) => b.split('\n').includes(`worktree ${wt.path}`));
    const line = entry?.split('\n').find((l) => l.startsWith('branch ') || l === 'detached');
    if (line === `branch ${expected}`) return undefined;
    names = line?.startsWith('branch ') ? line.slice(7) : line ? 'a detached commit' : 'nothing readable';
  }
  return `the task pointed HEAD at ${names.slice(0, 200)}; the server committed to ${expected} only`;
}

// The commits a sandboxed task made in its clone, fetched into the user's repository the way git documents for an
// untrusted .git (through upload-pack, which ignores the clone's dangerous config and hooks), only its branch, into a
// temporary ref of this task (removed in the finally), and taken only when they descend from the base commit.
async function takeCloneCommits(wt: Worktree, deps: WorktreeDeps): Promise<{ parent?: string; warning?: string }> {
  const ref = `refs/heads/${wt.branch}`;
  const tmp = `refs/claude-tiers-import/${wt.taskId}`;
  const opts = deps.git;
  try {
    const fetched = await git(
      wt.repoRoot,
      [
        '-c',
        'protocol.file.allow=always',
        '-c',
        'transfer.fsckObjects=true',
        '-c',
        'fetch.writeCommitGraph=false',
        '--git-dir',
        wt.gitDir,
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-recurse-submodules',
        '--no-write-fetch-head',
        '--no-auto-gc',
        '--',
        join(wt.path, '.git'),
        `+${ref}:${tmp}`,
      ],
      { ...opts, lockRetries: 0 },
    ).then(
      () => true,
      () => false,
    );
    if (!fetched) return { warning: `the task's clone had no readable ${ref}; its files were committed on the base` };
    const oid = (await readRef(wt.gitDir, tmp, opts))?.oid;
    if (!oid || oid === wt.baseCommit) return {};
    const isCommit = await git(wt.gitDir, ['--git-dir', wt.gitDir, 'cat-file', '-t', oid], opts).then(
      (t) => t.trim() === 'commit',
      () => false,
    );
    if (isCommit && (await isAncestor(wt.gitDir, wt.baseCommit, oid, opts))) return { parent: oid };
    return {
      warning:
        `the task's clone held ${ref} at ${oid}, which does not descend from the base commit; its files were ` +
        `committed on the base`,
    };
  } finally {
    const left = await readRef(wt.gitDir, tmp, opts).catch(() => undefined);
    if (left) await casRef(wt.gitDir, tmp, '', left.oid, opts).catch(() => undefined);
  }
}

// Commits the task's files to its branch, sealed (sealCommit: git never runs in the task's tree) and by compare-and-
// swap from the value the server expects: in a worktree the branch as the task left it, in a clone the branch as the
// server left it; the task's own commits (if they descend from the base) are the parent of the server's commit.
async function commitTask(
  wt: Worktree,
  message: string,
  deps: WorktreeDeps,
): Promise<Pick<WorktreeSummary, 'head_moved' | 'not_committed' | 'warnings'>> {
  const ref = `refs/heads/${wt.branch}`;
  const warnings: string[] = [];
  const headMoved = existsSync(wt.path) ? await movedHead(wt, deps) : undefined;
  let parent = wt.baseCommit;
  let old = wt.baseCommit;
  if (wt.kind !== 'clone') {
    const cur = await readRef(wt.gitDir, ref, deps.git);
    if (cur?.symref) {
      // The task made its branch a symbolic ref: drop that ref itself (never its target), then write the branch anew.
      await git(wt.gitDir, ['--git-dir', wt.gitDir, 'update-ref', '--no-deref', '-d', ref], deps.git);
      warnings.push(`the task made ${ref} point at ${cur.symref}; the server wrote ${ref} itself`);
      old = '';
    } else if (!cur) {
      old = '';
    } else {
      old = cur.oid;
      const commit = await git(wt.gitDir, ['--git-dir', wt.gitDir, 'cat-file', '-t', cur.oid], deps.git).then(
        (t) => t.trim() === 'commit',
        () => false,
      );
      if (commit && (await isAncestor(wt.gitDir, wt.baseCommit, cur.oid, deps.git))) parent = cur.oid;
      else if (cur.oid !== wt.baseCommit)
        warnings.push(
          `the task moved ${ref} to ${cur.oid}, which does not descend from the base commit; its files were ` +
            `committed on the base`,
        );
    }
  } else if (existsSync(wt.path)) {
    const taken = await takeCloneCommits(wt, deps);
    if (taken.parent) parent = taken.parent;
    if (taken.warning) warnings.push(taken.warning);
  }
  let notCommitted: string[] = [];
  let head = parent;
  if (existsSync(wt.path)) {
    const sealed = await sealCommit(
      { gitDir: wt.gitDir, workTree: wt.path, dropPlaceholders: wt.kind === 'clone' },
      parent,
      message,
      deps.git,
    );
    notCommitted = sealed.notCommitted;
    head = sealed.commit ?? parent;
  }
  if (head !== old) await casRef(wt.gitDir, ref, head, old, deps.git);
  return {
    ...(headMoved ? { head_moved: headMoved } : {}),
    ...(notCommitted.length ? { not_committed: notCommitted } : {}),
    ...(warnings.length ? { warnings } : {}),
  };
}

// A kept worktree's index (and a kept clone's branch) brought to the commit the server made, so `git status` there
// shows no change; written as files of the server's choosing (the admin dir found before the task ran).
async function syncKept(wt: Worktree, head: string, deps: WorktreeDeps): Promise<void> {
  const admin = wt.kind === 'clone' ? join(wt.path, '.git') : wt.adminDir;
  if (!admin) return;
  if (wt.kind === 'clone')
    await git(wt.path, ['--git-dir', admin, 'update-ref', '--no-deref', `refs/heads/${wt.branch}`, head], deps.git);
  await git(wt.path, ['--git-dir', wt.gitDir, 'read-tree', head], {
    ...deps.git,
    env: { ...(deps.git?.env ?? process.env), GIT_INDEX_FILE: join(admin, 'index') },
  });
}

// Ends a task's worktree, however the task ended: commits everything left in it to its branch, summarizes the
// branch against its base, removes the worktree unless keep, and deletes a branch that holds no change of this task.
export async function finishWorktree(
  wt: Worktree,
  opts: { keep: boolean; reason?: string },
  deps: WorktreeDeps,
): Promise<WorktreeSummary> {
  const notes = await commitTask(wt, `claude-tiers: task ${wt.taskId}${opts.reason ? ` (${opts.reason})` : ''}`, deps);
  const summary = { ...(await summarize(wt, deps.git)), ...notes };
  if (opts.keep && existsSync(wt.path)) {
    await syncKept(wt, summary.head_commit, deps);
    return { ...summary, path: wt.path };
  }
  await removeWorktree(wt, deps);
  if (summary.head_commit === wt.baseCommit && wt.createdBranch) {
    await deps.locks.with(wt.gitDir, () => casRef(wt.gitDir, `refs/heads/${wt.branch}`, '', wt.baseCommit, deps.git));
    return { ...summary, branch: null };
  }
  return summary;
}

// A lost task (its server died): what is in its worktree is committed to its branch, the worktree removed and
// pruned (no stale `git worktree list` entry); the branch stays, unless the task changed nothing.
export async function recoverWorktree(wt: Worktree, deps: WorktreeDeps): Promise<WorktreeSummary> {
  return finishWorktree(wt, { keep: false, reason: 'lost: recovered after its server died' }, deps);
}

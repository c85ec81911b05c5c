import { lstat, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorktreeSummary } from '../shapes/worktree.js';
import { git, GitError, type GitOptions } from './git.js';

// What a task's worktree left behind (its shape lives in src/shapes).
export type { WorktreeSummary };

const IDENTITY = {
  GIT_AUTHOR_NAME: 'claude-tiers',
  GIT_AUTHOR_EMAIL: 'claude-tiers@localhost',
  GIT_COMMITTER_NAME: 'claude-tiers',
  GIT_COMMITTER_EMAIL: 'claude-tiers@localhost',
};
const ZERO = '0'.repeat(40);

// Where a task's files are committed from and to: the user's (common) git dir holds the objects and the ref; the
// task's tree is only read as files.
export interface SealTarget {
  gitDir: string;
  workTree: string;
  /** Leave out the empty files Claude Code's sandbox mounts over (sandbox placeholders), when new in the tree. */
  dropPlaceholders?: boolean;
}

// The files and folders claude 2.1.330's sandbox masks in its working directory (bind mounts of /dev/null or an empty
// folder); measured: during a run they show as character devices, and an interrupted run can leave them empty.
const PLACEHOLDERS = new Set([
  '.bash_profile',
  '.bashrc',
  '.gitconfig',
  '.gitmodules',
  '.idea',
  '.mcp.json',
  '.profile',
  '.ripgreprc',
  '.vscode',
  '.zprofile',
  '.zshrc',
]);
const isPlaceholder = (path: string): boolean => {
  const parts = path.split('/');
  const name = parts.at(-1)!;
  return PLACEHOLDERS.has(name) || parts.at(-2) === '.claude';
};

interface Entry {
  mode: string;
  sha?: string;
  /** A file whose content git must hash (a path under the work tree, or a temp file holding a symlink's target). */
  hashPath?: string;
  path: string;
}

// A path in the task's tree whose parent folders are all real folders (a symlinked folder would lead outside).
function parentsAreFolders(workTree: string, path: string, seen: Map<string, Promise<boolean>>): Promise<boolean> {
  const parts = path.split('/');
  let chain = Promise.resolve(true);
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    let check = seen.get(dir);
    if (!check) {
      check = lstat(join(workTree, dir)).then(
        (s) => s.isDirectory(),
        () => false,
      );
      seen.set(dir, check);
    }
    const c = check;
    chain = chain.then((ok) => ok && c);
  }
  return chain;
}

const nul = (s: string) => s.split('\0').filter(Boolean);

// The tree of a task's files, built without running git in the task's tree and without reading anything the task
// can write but its files: a temp index of the server's own (released in the finally), the user's git dir, blobs
// hashed with --no-filters (no .gitattributes filter, eol or textconv runs), ignored files skipped (.gitignore rules),
// a nested repository (a folder with its own .git) refused and listed, never entered; a gitlink of the parent stays
// as it was. Returns the tree and what was not committed.
export async function sealTree(
  t: SealTarget,
  parent: string,
  opts: GitOptions = {},
): Promise<{ tree: string; notCommitted: string[] }> {
  const tmp = await mkdtemp(join(tmpdir(), 'ct-seal-'));
  try {
    const base = { GIT_DIR: t.gitDir, GIT_WORK_TREE: t.workTree };
    const listing = {
      ...opts,
      env: { ...(opts.env ?? process.env), ...base, GIT_INDEX_FILE: join(tmp, 'parent-index') },
    };
    await git(t.workTree, ['read-tree', parent], listing);
    const tracked = nul(await git(t.workTree, ['ls-files', '-z', '--stage'], listing)).map((l) => {
      const tab = l.indexOf('\t');
      const [mode, sha] = l.slice(0, tab).split(' ');
      return { mode: mode!, sha: sha!, path: l.slice(tab + 1) };
    });
    const untracked = nul(await git(t.workTree, ['ls-files', '-z', '--others', '--exclude-standard'], listing));
    const notCommitted: string[] = [];
    const seen = new Map<string, Promise<boolean>>();
    const entries: Entry[] = [];
    let links = 0;
    const examine = async (path: string, keep?: { mode: string; sha: string }): Promise<void> => {
      if (keep?.mode === '160000') return void entries.push({ mode: keep.mode, sha: keep.sha, path });
      if (path.endsWith('/')) return void notCommitted.push(path);
      if (!(await parentsAreFolders(t.workTree, path, seen))) return;
      const full = join(t.workTree, path);
      const s = await lstat(full).catch(() => undefined);
      if (!s) return;
      if (s.isSymbolicLink()) {
        const holder = join(tmp, `link-${links++}`);
        await writeFile(holder, await readlink(full, { encoding: 'buffer' }));
        return void entries.push({ mode: '120000', hashPath: holder, path });
      }
      // A tracked file the task replaced by a folder: the folder's files are listed as untracked files of their own.
      if (s.isDirectory()) return;
      if (!s.isFile())
        return void (s.isCharacterDevice() && t.dropPlaceholders && isPlaceholder(path)
          ? undefined
          : notCommitted.push(path));
      if (!keep && t.dropPlaceholders && s.size === 0 && isPlaceholder(path)) return;
      // hash-object --stdin-paths reads one path a line: a name with a newline cannot be passed, so it is not taken.
      if (full.includes('\n')) return void notCommitted.push(path);
      entries.push({ mode: s.mode & 0o100 ? '100755' : '100644', hashPath: full, path });
    };
    await Promise.all([...tracked.map((e) => examine(e.path, e)), ...untracked.map((p) => examine(p))]);
    const toHash = entries.filter((e) => e.hashPath);
    if (toHash.length) {
      const shas = (
        await git(t.workTree, ['hash-object', '-w', '--no-filters', '--stdin-paths'], {
          ...opts,
          env: { ...(opts.env ?? process.env), ...base },
          input: toHash.map((e) => e.hashPath).join('\n') + '\n',
        })
      ).split('\n');
      toHash.forEach((e, i) => (e.sha = shas[i]));
    }
    const building = {
      ...opts,
      env: { ...(opts.env ?? process.env), GIT_DIR: t.gitDir, GIT_INDEX_FILE: join(tmp, 'index') },
    };
    const info = entries.map((e) => `${e.mode} ${e.sha}\t${e.path}\0`).join('');
    await git(tmp, ['update-index', '-z', '--add', '--index-info'], { ...building, input: info });
    const tree = (await git(tmp, ['write-tree'], building)).trim();
    return { tree, notCommitted: notCommitted.sort() };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

// A ref's value as stored (a symbolic ref is reported, never followed): undefined when it does not exist.
export async function readRef(
  gitDir: string,
  ref: string,
  opts: GitOptions = {},
): Promise<{ oid: string; symref: string } | undefined> {
  const out = await git(
    gitDir,
    ['--git-dir', gitDir, 'for-each-ref', '--format=%(refname)%00%(objectname)%00%(symref)', ref],
    opts,
  );
  for (const line of out.split('\n')) {
    const [name, oid, symref] = line.split('\0');
    if (name === ref) return { oid: oid!, symref: symref ?? '' };
  }
  return undefined;
}

// Moves a ref from the value the server expects to a new one, compare-and-swap, never through a symbolic ref: git
// refuses if the ref holds anything else (old '' = must not exist yet; next '' = delete it).
export async function casRef(
  gitDir: string,
  ref: string,
  next: string,
  old: string,
  opts: GitOptions = {},
): Promise<void> {
  const update = next ? [ref, next, old || ZERO] : ['-d', ref, old];
  await git(gitDir, ['--git-dir', gitDir, 'update-ref', '--no-deref', '-m', 'claude-tiers', ...update], opts);
}

// Whether `a` is an ancestor of (or equal to) commit `b`.
export async function isAncestor(gitDir: string, a: string, b: string, opts: GitOptions = {}): Promise<boolean> {
  return git(gitDir, ['--git-dir', gitDir, 'merge-base', '--is-ancestor', a, b], { ...opts, lockRetries: 0 }).then(
    () => true,
    (err) => {
      if (err instanceof GitError && err.exitCode === 1) return false;
      throw err;
    },
  );
}

// Commits the task's files (sealTree) on `parent` and returns the commit, or undefined when its tree is the parent's;
// the author is the repository's user.email identity when it has one, else claude-tiers.
export async function sealCommit(
  t: SealTarget,
  parent: string,
  message: string,
  opts: GitOptions = {},
): Promise<{ commit?: string; notCommitted: string[] }> {
  const { tree, notCommitted } = await sealTree(t, parent, opts);
  const parentTree = (await git(t.gitDir, ['--git-dir', t.gitDir, 'rev-parse', `${parent}^{tree}`], opts)).trim();
  if (tree === parentTree) return { notCommitted };
  const hasIdentity = await git(t.gitDir, ['--git-dir', t.gitDir, 'config', '--get', 'user.email'], opts).then(
    (s) => s.trim().length > 0,
    () => false,
  );
  const env = { ...(opts.env ?? process.env), ...(hasIdentity ? {} : IDENTITY) };
  const commit = (
    await git(t.gitDir, ['--git-dir', t.gitDir, 'commit-tree', tree, '-p', parent], {
      ...opts,
      env,
      input: `${message}\n`,
    })
  ).trim();
  return { commit, notCommitted };
}

// The branch's state against its base: head, the files that differ, and git's diffstat (no external diff, no
// textconv: the user's diff programs never see the task's content).
export async function summarize(
  wt: { gitDir: string; branch: string; baseCommit: string },
  opts: GitOptions = {},
): Promise<WorktreeSummary> {
  const g = (args: string[]) => git(wt.gitDir, ['--git-dir', wt.gitDir, ...args], opts);
  const head = (await g(['rev-parse', '--verify', `refs/heads/${wt.branch}^{commit}`])).trim();
  const names = await g(['diff', '--no-ext-diff', '--no-textconv', '--name-only', '-z', wt.baseCommit, head]);
  const stat = await g(['diff', '--no-ext-diff', '--no-textconv', '--stat', wt.baseCommit, head]);
  return {
    branch: wt.branch,
    base_commit: wt.baseCommit,
    head_commit: head,
    changed_files: names.split('\0').filter(Boolean),
    diffstat: stat.trim(),
  };
}

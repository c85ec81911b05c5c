import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git } from '../../src/isolation/git.js';
import { RepoLocks } from '../../src/isolation/repo-locks.js';
import { finishWorktree, prepareWorktree, recoverWorktree, type Worktree } from '../../src/isolation/worktree.js';
import { scratchRepo } from './git-repo.js';

// The worktree module against real git in scratch repositories: isolation, cleanup, recovery, continue.
const branches = (r: ReturnType<typeof scratchRepo>) =>
  r.git('branch', '--list', 'claude-tiers/*', '--format=%(refname:short)').split('\n').filter(Boolean).sort();
const worktrees = (r: ReturnType<typeof scratchRepo>) =>
  r
    .git('worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '));

describe('worktree isolation', () => {
  it(
    'three concurrent tasks on one repo each keep only their own content, and the user tree, index and HEAD ' +
      'stay as they were',
    async () => {
      const repo = scratchRepo();
      const head = repo.git('rev-parse', 'HEAD');
      const deps = { locks: new RepoLocks() };
      const ids = ['t_one', 't_two', 't_three'];
      const summaries = await Promise.all(
        ids.map(async (id) => {
          const wt = await prepareWorktree({ cwd: repo.root, taskId: id, stateDir: repo.stateDir }, deps);
          expect(wt.path).toBe(join(repo.stateDir, 'worktrees', id));
          writeFileSync(join(wt.cwdInWorktree, 'note.txt'), `written by ${id}\n`);
          writeFileSync(join(wt.cwdInWorktree, 'README.md'), `changed by ${id}\n`);
          return finishWorktree(wt, { keep: false, reason: 'succeeded' }, deps);
        }),
      );
      for (const [i, id] of ids.entries()) {
        const s = summaries[i]!;
        expect(s.branch).toBe(`claude-tiers/${id}`);
        expect(s.base_commit).toBe(head.trim());
        expect(s.changed_files.sort()).toEqual(['README.md', 'note.txt']);
        expect(s.diffstat).toMatch(/2 files changed/);
        expect(s.path).toBeUndefined();
        expect(repo.git('show', `claude-tiers/${id}:note.txt`)).toBe(`written by ${id}\n`);
        expect(repo.git('log', '-1', '--format=%s', `claude-tiers/${id}`)).toContain(`task ${id}`);
        expect(existsSync(join(repo.stateDir, 'worktrees', id))).toBe(false);
      }
      expect(branches(repo)).toEqual(ids.map((id) => `claude-tiers/${id}`).sort());
      expect(repo.git('status', '--porcelain')).toBe('');
      expect(repo.git('rev-parse', 'HEAD')).toBe(head);
      expect(repo.git('symbolic-ref', 'HEAD').trim()).toBe('refs/heads/main');
      expect(existsSync(join(repo.root, 'note.txt'))).toBe(false);
      expect(readFileSync(join(repo.root, 'README.md'), 'utf8')).toBe('hello\n');
      expect(worktrees(repo)).toHaveLength(1);
    },
  );

  it('a task that changed nothing leaves no branch and no worktree', async () => {
    const repo = scratchRepo();
    const deps = { locks: new RepoLocks() };
    const wt = await prepareWorktree({ cwd: repo.root, taskId: 't_idle', stateDir: repo.stateDir }, deps);
    expect(branches(repo)).toEqual(['claude-tiers/t_idle']);
    const s = await finishWorktree(wt, { keep: false }, deps);
    expect(s).toMatchObject({ branch: null, changed_files: [], diffstat: '' });
    expect(s.head_commit).toBe(s.base_commit);
    expect(branches(repo)).toEqual([]);
    expect(worktrees(repo)).toHaveLength(1);
    expect(existsSync(wt.path)).toBe(false);
  });

  it('keep: true keeps the worktree (its path in the summary) and the branch', async () => {
    const repo = scratchRepo();
    const deps = { locks: new RepoLocks() };
    const wt = await prepareWorktree({ cwd: join(repo.root, 'src'), taskId: 't_keep', stateDir: repo.stateDir }, deps);
    expect(wt.cwdInWorktree).toBe(join(wt.path, 'src'));
    expect(readFileSync(join(wt.cwdInWorktree, 'keep.txt'), 'utf8')).toBe('keep\n');
    writeFileSync(join(wt.cwdInWorktree, 'new.txt'), 'new\n');
    const s = await finishWorktree(wt, { keep: true }, deps);
    expect(s.path).toBe(wt.path);
    expect(s.changed_files).toEqual(['src/new.txt']);
    expect(existsSync(join(wt.path, 'src', 'new.txt'))).toBe(true);
    expect(repo.git('status', '--porcelain')).toBe('');
    expect(worktrees(repo)).toHaveLength(2);
    await expect(git(wt.path, ['status', '--porcelain'])).resolves.toBe('');
  });

  it('concurrent worktree adds on one repo all succeed, with or without a shared lock', async () => {
    const repo = scratchRepo();
    const shared = { locks: new RepoLocks() };
    const ids = Array.from({ length: 6 }, (_, i) => `t_par${i}`);
    const wts = await Promise.all(
      ids.map((id, i) =>
        prepareWorktree(
          { cwd: repo.root, taskId: id, stateDir: repo.stateDir },
          i % 2 ? shared : { locks: new RepoLocks() },
        ),
      ),
    );
    expect(worktrees(repo)).toHaveLength(7);
    await Promise.all(wts.map((wt) => finishWorktree(wt, { keep: false }, shared)));
    expect(worktrees(repo)).toHaveLength(1);
    expect(branches(repo)).toEqual([]);
  });

  it('git retries while index.lock is held, and fails on it without retries', async () => {
    const repo = scratchRepo();
    const lock = join(repo.root, '.git', 'index.lock');
    writeFileSync(join(repo.root, 'README.md'), 'edited\n');
    writeFileSync(lock, '');
    await expect(git(repo.root, ['add', 'README.md'], { lockRetries: 0 })).rejects.toThrow(/index\.lock/);
    setTimeout(() => rmSync(lock), 300);
    await expect(git(repo.root, ['add', 'README.md'], { lockRetryMs: 50 })).resolves.toBe('');
  });

  it(
    'recovers a crashed task: its changes are committed to its branch, the worktree pruned, git worktree list ' +
      'clean',
    async () => {
      const repo = scratchRepo();
      const wt = await prepareWorktree(
        { cwd: repo.root, taskId: 't_lost', stateDir: repo.stateDir },
        { locks: new RepoLocks() },
      );
      writeFileSync(join(wt.path, 'README.md'), 'half done\n');
      writeFileSync(join(wt.path, 'untracked.txt'), 'partial\n');
      // The server dies here; a new one finds the worktree in the task's record.
      const stored = JSON.parse(JSON.stringify(wt)) as Worktree;
      const s = await recoverWorktree(stored, { locks: new RepoLocks() });
      expect(s.branch).toBe('claude-tiers/t_lost');
      expect(s.changed_files.sort()).toEqual(['README.md', 'untracked.txt']);
      expect(repo.git('show', 'claude-tiers/t_lost:untracked.txt')).toBe('partial\n');
      expect(repo.git('log', '-1', '--format=%s', 'claude-tiers/t_lost')).toMatch(/t_lost \(lost/);
      expect(existsSync(wt.path)).toBe(false);
      expect(worktrees(repo)).toHaveLength(1);
      expect(repo.git('worktree', 'list')).not.toMatch(/prunable|t_lost/);
      expect(repo.git('status', '--porcelain')).toBe('');
    },
  );

  it('recovers a task whose worktree folder is already gone: no stale entry is left', async () => {
    const repo = scratchRepo();
    const wt = await prepareWorktree(
      { cwd: repo.root, taskId: 't_gone', stateDir: repo.stateDir },
      { locks: new RepoLocks() },
    );
    rmSync(wt.path, { recursive: true, force: true });
    expect(repo.git('worktree', 'list')).toMatch(/prunable/);
    const s = await recoverWorktree(wt, { locks: new RepoLocks() });
    expect(s.branch).toBeNull();
    expect(repo.git('worktree', 'list')).not.toMatch(/prunable|t_gone/);
  });

  it('a follow-up task (continue_task_id) continues on the earlier branch and never deletes it', async () => {
    const repo = scratchRepo();
    const deps = { locks: new RepoLocks() };
    const first = await prepareWorktree({ cwd: repo.root, taskId: 't_first', stateDir: repo.stateDir }, deps);
    writeFileSync(join(first.path, 'a.txt'), 'a\n');
    const s1 = await finishWorktree(first, { keep: false }, deps);
    const second = await prepareWorktree(
      { cwd: repo.root, taskId: 't_second', stateDir: repo.stateDir, continueTaskId: 't_first' },
      deps,
    );
    expect(second.branch).toBe('claude-tiers/t_first');
    expect(second.baseCommit).toBe(s1.head_commit);
    expect(readFileSync(join(second.path, 'a.txt'), 'utf8')).toBe('a\n');
    writeFileSync(join(second.path, 'b.txt'), 'b\n');
    const s2 = await finishWorktree(second, { keep: false }, deps);
    expect(s2.branch).toBe('claude-tiers/t_first');
    expect(s2.changed_files).toEqual(['b.txt']);
    expect(repo.git('ls-tree', '--name-only', 'claude-tiers/t_first').split('\n')).toEqual(
      expect.arrayContaining(['a.txt', 'b.txt']),
    );
    const third = await prepareWorktree(
      { cwd: repo.root, taskId: 't_third', stateDir: repo.stateDir, continueTaskId: 't_first' },
      deps,
    );
    expect((await finishWorktree(third, { keep: false }, deps)).branch).toBe('claude-tiers/t_first');
    expect(branches(repo)).toEqual(['claude-tiers/t_first']);
  });

  it('refuses a cwd outside a git repository, and says clearly when git is missing', async () => {
    const repo = scratchRepo();
    await expect(
      prepareWorktree({ cwd: repo.stateDir, taskId: 't_x', stateDir: repo.stateDir }, { locks: new RepoLocks() }),
    ).rejects.toThrow(/not inside a git repository/);
    const noGit = { locks: new RepoLocks(), git: { env: { ...process.env, PATH: '/nonexistent' } } };
    await expect(prepareWorktree({ cwd: repo.root, taskId: 't_y', stateDir: repo.stateDir }, noGit)).rejects.toThrow(
      /git command was not found on PATH \(\/nonexistent\).*install git/,
    );
  });
});

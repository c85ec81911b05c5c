import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conflictsAmong, mergeBack, type MergeBackRequest } from '../../src/isolation/merge-back.js';
import { RepoLocks } from '../../src/isolation/repo-locks.js';
import { toolConfigReason } from '../../src/isolation/tool-config.js';
import { scratchRepo } from './git-repo.js';

// merge_task's git: the merge is worked out in the object store, and only a ref (or a clean checkout) moves.
function repoWithTask(file = 'task.txt', content = 'from the task\n') {
  const r = scratchRepo();
  r.git('branch', 'claude-tiers/t_one');
  r.git('worktree', 'add', '-q', join(r.stateDir, 'wt'), 'claude-tiers/t_one');
  writeFileSync(join(r.stateDir, 'wt', file), content);
  r.git('-C', join(r.stateDir, 'wt'), 'add', '-A');
  r.git('-C', join(r.stateDir, 'wt'), 'commit', '-q', '-m', 'task work');
  r.git('worktree', 'remove', '--force', join(r.stateDir, 'wt'));
  const req = (extra: Partial<MergeBackRequest> = {}): MergeBackRequest => ({
    repoRoot: r.root,
    gitDir: join(r.root, '.git'),
    branch: 'claude-tiers/t_one',
    strategy: 'merge',
    message: 'merge task t_one',
    ...extra,
  });
  return { ...r, req };
}

describe('merge back', () => {
  it(
    'merges into the clean checked-out branch: ref, index and files advance; a merge commit has two ' + 'parents',
    async () => {
      const r = repoWithTask();
      const before = r.git('rev-parse', 'main').trim();
      const out = await mergeBack(r.req(), new RepoLocks());
      expect(out).toMatchObject({
        merged: true,
        into: 'main',
        moved: 'worktree',
        previous: before,
        files: ['task.txt'],
      });
      expect(r.git('rev-parse', 'main').trim()).toBe(out.merged && out.commit);
      expect(r.git('rev-list', '--parents', '-n', '1', 'main').trim().split(' ')).toHaveLength(3);
      expect(readFileSync(join(r.root, 'task.txt'), 'utf8')).toBe('from the task\n');
      expect(r.git('status', '--porcelain')).toBe('');
    },
  );

  it(
    'a branch that adds tool configuration is refused, naming it; nothing changes unless ' + 'allowToolConfig',
    async () => {
      const r = repoWithTask('.mcp.json', '{"mcpServers":{"x":{"command":"touch","args":["/tmp/pwned"]}}}\n');
      const main = r.git('rev-parse', 'main').trim();
      const out = await mergeBack(r.req(), new RepoLocks());
      expect(out).toEqual({
        merged: false,
        reason: 'tool_config',
        into: 'main',
        tool_config: [{ path: '.mcp.json', reason: 'MCP servers claude starts' }],
      });
      expect(r.git('rev-parse', 'main').trim()).toBe(main);
      expect(existsSync(join(r.root, '.mcp.json'))).toBe(false);
      const allowed = await mergeBack(r.req({ allowToolConfig: true }), new RepoLocks());
      expect(allowed).toMatchObject({ merged: true, tool_config: [{ path: '.mcp.json' }] });
      expect(existsSync(join(r.root, '.mcp.json'))).toBe(true);
    },
  );

  it('tool configuration is found at any depth and in any case, and only there', () => {
    for (const p of ['sub/.claude/settings.json', 'a/b/.Claude/x', 'x/.mcp.json', '.githooks/pre-commit', '.envrc'])
      expect(toolConfigReason(p), p).toBeTruthy();
    for (const p of ['.husky/pre-push', 'web/.vscode/tasks.json']) expect(toolConfigReason(p), p).toBeTruthy();
    for (const p of ['claude/settings.json', 'a.claude/x', 'docs/.mcp.json.md', 'README', 'src/envrc'])
      expect(toolConfigReason(p), p).toBeUndefined();
  });

  it('squash: one commit with one parent, the same tree', async () => {
    const r = repoWithTask();
    const out = await mergeBack(r.req({ strategy: 'squash' }), new RepoLocks());
    expect(out.merged).toBe(true);
    expect(r.git('rev-list', '--parents', '-n', '1', 'main').trim().split(' ')).toHaveLength(2);
    expect(r.git('rev-parse', 'main^{tree}')).toBe(r.git('rev-parse', 'claude-tiers/t_one^{tree}'));
  });

  it(
    'a branch that is not checked out moves by compare-and-swap; the checked-out branch and its files ' + 'stay',
    async () => {
      const r = repoWithTask();
      r.git('branch', 'release');
      const main = r.git('rev-parse', 'main').trim();
      writeFileSync(join(r.root, 'README.md'), 'my uncommitted edit\n');
      const out = await mergeBack(r.req({ into: 'release' }), new RepoLocks());
      expect(out).toMatchObject({ merged: true, into: 'release', moved: 'ref' });
      expect(r.git('show', 'release:task.txt')).toBe('from the task\n');
      expect(r.git('rev-parse', 'main').trim()).toBe(main);
      expect(existsSync(join(r.root, 'task.txt'))).toBe(false);
      expect(readFileSync(join(r.root, 'README.md'), 'utf8')).toBe('my uncommitted edit\n');
    },
  );

  it('a conflict changes nothing and names the files', async () => {
    const r = repoWithTask('README.md', 'the task says\n');
    writeFileSync(join(r.root, 'README.md'), 'the user says\n');
    r.git('commit', '-q', '-am', 'user edit');
    const main = r.git('rev-parse', 'main').trim();
    const out = await mergeBack(r.req(), new RepoLocks());
    expect(out).toEqual({ merged: false, reason: 'conflict', into: 'main', conflicts: ['README.md'] });
    expect(r.git('rev-parse', 'main').trim()).toBe(main);
    expect(r.git('status', '--porcelain')).toBe('');
    expect(readFileSync(join(r.root, 'README.md'), 'utf8')).toBe('the user says\n');
  });

  it('a checked-out target with uncommitted work is refused, naming the dirty files; nothing changes', async () => {
    const r = repoWithTask();
    writeFileSync(join(r.root, 'README.md'), 'work in progress\n');
    writeFileSync(join(r.root, 'task.txt'), 'an untracked file where the merge writes\n');
    writeFileSync(join(r.root, 'notes.txt'), 'an untracked file elsewhere\n');
    const main = r.git('rev-parse', 'main').trim();
    const out = await mergeBack(r.req(), new RepoLocks());
    expect(out).toMatchObject({ merged: false, reason: 'dirty', into: 'main', worktree: r.root });
    expect(out.merged === false && out.reason === 'dirty' && out.dirty.sort()).toEqual(['README.md', 'task.txt']);
    expect(r.git('rev-parse', 'main').trim()).toBe(main);
    expect(readFileSync(join(r.root, 'README.md'), 'utf8')).toBe('work in progress\n');
    expect(readFileSync(join(r.root, 'task.txt'), 'utf8')).toBe('an untracked file where the merge writes\n');
  });

  it('a branch already merged is up to date; a bad target is a clear error', async () => {
    const r = repoWithTask();
    expect((await mergeBack(r.req(), new RepoLocks())).merged).toBe(true);
    expect(await mergeBack(r.req(), new RepoLocks())).toMatchObject({ merged: false, reason: 'up_to_date' });
    await expect(mergeBack(r.req({ into: 'nope' }), new RepoLocks())).rejects.toThrow(
      /into: there is no branch "nope"/,
    );
    await expect(mergeBack(r.req({ into: '--force' }), new RepoLocks())).rejects.toThrow(/not a valid branch name/);
    r.git('checkout', '-q', '--detach');
    await expect(mergeBack(r.req(), new RepoLocks())).rejects.toThrow(/detached HEAD; name the branch/);
  });

  it('names the pairs of task branches that conflict with each other', async () => {
    const r = scratchRepo();
    for (const [id, file, text] of [
      ['a', 'x.txt', 'a'],
      ['b', 'x.txt', 'b'],
      ['c', 'y.txt', 'c'],
    ] as const) {
      const wt = join(r.stateDir, id);
      r.git('worktree', 'add', '-q', '-b', `claude-tiers/t_${id}`, wt, 'main');
      writeFileSync(join(wt, file), text);
      r.git('-C', wt, 'add', '-A');
      r.git('-C', wt, 'commit', '-q', '-m', id);
    }
    const pairs = await conflictsAmong(r.root, ['claude-tiers/t_a', 'claude-tiers/t_b', 'claude-tiers/t_c']);
    expect(pairs).toEqual([{ a: 'claude-tiers/t_a', b: 'claude-tiers/t_b', files: ['x.txt'] }]);
  });

  it(
    'an ignored file where the merge writes is uncommitted work too; a squash merged before is up to date; ' +
      'task branches are no target',
    async () => {
      const r = repoWithTask('.env', 'FROM_TASK=1\n');
      writeFileSync(join(r.root, '.gitignore'), '.env\n');
      r.git('add', '.gitignore');
      r.git('commit', '-q', '-m', 'ignore .env');
      writeFileSync(join(r.root, '.env'), 'MY_SECRET=1\n');
      const main = r.git('rev-parse', 'main').trim();
      expect(await mergeBack(r.req(), new RepoLocks())).toMatchObject({
        merged: false,
        reason: 'dirty',
        dirty: ['.env'],
      });
      expect(readFileSync(join(r.root, '.env'), 'utf8')).toBe('MY_SECRET=1\n');
      expect(r.git('rev-parse', 'main').trim()).toBe(main);
      r.git('branch', 'release');
      expect((await mergeBack(r.req({ into: 'release', strategy: 'squash' }), new RepoLocks())).merged).toBe(true);
      const once = r.git('rev-parse', 'release').trim();
      expect(await mergeBack(r.req({ into: 'release', strategy: 'squash' }), new RepoLocks())).toMatchObject({
        reason: 'up_to_date',
      });
      expect(r.git('rev-parse', 'release').trim()).toBe(once);
      r.git('branch', 'claude-tiers/t_other');
      await expect(mergeBack(r.req({ into: 'claude-tiers/t_other' }), new RepoLocks())).rejects.toThrow(
        /is a task's branch/,
      );
    },
  );
});

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildClaudeArgs, buildClaudeEnv } from '../../src/claude/args.js';
import { ClaudeRun } from '../../src/claude/run.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { RepoLocks } from '../../src/isolation/repo-locks.js';
import { finishWorktree, prepareWorktree, type WorktreeSummary } from '../../src/isolation/worktree.js';
import { REAL_CLAUDE } from '../support/harness.js';
import { claudePerFile, runLimits } from '../support/per-file.js';
import { scratchRepo } from './git-repo.js';

// Issue 19, items 1, 2 and 4: a hostile task (the real claude running the scripted Bash) plants what would make the
// server's git run a program or write outside the task's branch; the server commits its files sealed, by CAS.
const f = claudePerFile();
const limits = runLimits(90_000, 90_000);
type Repo = ReturnType<typeof scratchRepo>;

interface Ran {
  summary: WorktreeSummary;
  /** Every tool_result text claude sent back (what each Bash step printed). */
  toolResults: string;
  cwd: string;
}

// One task of the tier in a worktree of repo (a clone of its own when sandboxed, as the server makes it), ended the
// way the server ends it.
// 'unconfined': the comprehensive tier with nothing asked (bypassPermissions, as an operator may configure it), for
// attacks whose set-up steps acceptEdits would ask about.
async function runTask(
  repo: Repo,
  tierName: 'comprehensive' | 'sandboxed' | 'unconfined',
  prompt: string,
): Promise<Ran> {
  const deps = { locks: new RepoLocks() };
  const taskId = `t_${tierName}_${Math.random().toString(36).slice(2, 8)}`;
  const wt = await prepareWorktree(
    { cwd: repo.root, taskId, stateDir: repo.stateDir, clone: tierName === 'sandboxed' },
    deps,
  );
  const base = defaultConfig().tiers[tierName === 'unconfined' ? 'comprehensive' : tierName]!;
  const tier = {
    ...base,
    mcpConfig: null,
    partialMessages: false,
    ...(tierName === 'unconfined'
      ? { permissionMode: 'bypassPermissions' as const, dangerouslySkipPermissions: true }
      : {}),
  };
  const env = { ...buildClaudeEnv(tier, f.env(), 0), ...(tierName === 'unconfined' ? { IS_SANDBOX: '1' } : {}) };
  const run = new ClaudeRun(
    {
      bin: REAL_CLAUDE,
      args: buildClaudeArgs(tier, { mcpConfigPath: null }),
      cwd: wt.cwdInWorktree,
      env,
      maxLineBytes: 1 << 20,
    },
    f.table,
    { interruptWaitMs: 1000, killGraceMs: 1000 },
  );
  const marker = `RUN-${taskId}`;
  run.send(`${marker} ${prompt}`, limits);
  await run.outcome;
  await run.ended;
  const toolResults =
    f.api
      .messageRequests((r) => r.firstUserText.includes(marker))
      .map((r) => JSON.stringify(r.messages))
      .at(-1) ?? '';
  const summary = await finishWorktree(wt, { keep: false, reason: 'succeeded' }, deps);
  return { summary, toolResults, cwd: wt.cwdInWorktree };
}

const markerDir = () => mkdtempSync(join(tmpdir(), 'ct-marker-'));
const refs = (repo: Repo) => repo.git('for-each-ref', '--format=%(refname) %(objectname)').trim();
// The subjects of a branch's commits, newest first.
const subjects = (repo: Repo, branch: string) => repo.git('log', '--format=%s', branch).trim().split('\n');
// The refs of repo, by name only, sorted.
const refNames = (repo: Repo) => repo.git('for-each-ref', '--format=%(refname)').trim().split('\n').sort();
// A sandboxed task's worktree (a clone of its own) of repo, made as the server makes it, with no task run in it.
const cloneWorktree = (repo: Repo, taskId: string, deps = { locks: new RepoLocks() }) =>
  prepareWorktree({ cwd: repo.root, taskId, stateDir: repo.stateDir, clone: true }, deps);

describe('the server commits a hostile task sealed (issue 19 item 1)', () => {
  it.each(['comprehensive', 'sandboxed'] as const)(
    '%s: a nested repository with core.fsmonitor, added by the task, runs nothing at the commit',
    async (tier) => {
      const repo = scratchRepo();
      const marks = markerDir();
      const cmd = `touch ${marks}/fsmonitor-ran; false`;
      const r = await runTask(
        repo,
        tier,
        `[[bash:echo mine > mine.txt; git init -q evil && git -C evil -c user.email=e@x -c user.name=e ` +
          `commit -q --allow-empty -m e && git -C evil config core.fsmonitor '${cmd}' && echo PLANTED; git add ` +
          `evil; echo added=$?]]`,
      );
      expect(r.toolResults).toContain('PLANTED');
      expect(readdirSync(marks)).toEqual([]);
      expect(r.summary.changed_files).toEqual(['mine.txt']);
      expect(r.summary.not_committed).toEqual(['evil/']);
      expect(repo.git('ls-tree', '-r', '--name-only', r.summary.branch!).split('\n')).not.toContain('evil');
    },
  );

  it(
    'unconfined: a submodule git dir (modules/<name>/config) with core.fsmonitor and a .gitattributes clean ' +
      'filter run nothing',
    async () => {
      const repo = scratchRepo();
      const marks = markerDir();
      const steps = [
        `git init -q sub && git -C sub -c user.email=e@x -c user.name=e commit -q --allow-empty -m s`,
        `printf '[submodule "sub"]\\n\\tpath = sub\\n\\turl = ./sub\\n' > .gitmodules && git add .gitmodules ` +
          `sub && git submodule absorbgitdirs sub && cat sub/.git && echo ABSORBED`,
        // Planted last, so the task's own git commands above never run it: only a later git in sub/ would.
        `git -C sub config core.fsmonitor 'touch ${marks}/submodule-ran; false' && git config --file "$(git ` +
          `rev-parse --git-dir)/modules/sub/config" core.fsmonitor | grep -c touch`,
        `git config filter.evil.clean 'touch ${marks}/filter-ran; cat' && printf '* filter=evil\\n' > ` +
          `.gitattributes && echo data > filtered.txt && echo FILTERED`,
      ];
      const r = await runTask(repo, 'unconfined', steps.map((s) => `[[bash:${s}]]`).join(''));
      expect(r.toolResults).toMatch(/gitdir: .*modules\/sub/);
      expect(r.toolResults).toContain('ABSORBED');
      expect(r.toolResults).toContain('FILTERED');
      expect(readdirSync(marks)).toEqual([]);
      // Stored as the task wrote them (no filter ran); the submodule is refused, never entered.
      expect(repo.git('show', `${r.summary.branch}:filtered.txt`)).toBe('data\n');
      expect(r.summary.not_committed).toEqual(['sub/']);
    },
  );
});

describe('the server writes only the task branch, by CAS (issue 19 item 4)', () => {
  it.each(['comprehensive', 'sandboxed'] as const)(
    '%s: a task that points HEAD at main, or at another task branch, moves neither',
    async (tier) => {
      const repo = scratchRepo();
      const main = repo.git('rev-parse', 'main').trim();
      repo.git('branch', 'claude-tiers/victim', main);
      for (const target of ['refs/heads/main', 'refs/heads/claude-tiers/victim']) {
        const r = await runTask(
          repo,
          tier,
          `[[bash:git symbolic-ref HEAD ${target}; echo moved=$?; echo X > f.txt; echo WROTE]]`,
        );
        expect(r.toolResults).toContain('WROTE');
        expect(repo.git('rev-parse', 'main').trim()).toBe(main);
        expect(repo.git('rev-parse', 'claude-tiers/victim').trim()).toBe(main);
        expect(r.summary.branch).toMatch(/^claude-tiers\/t_/);
        expect(r.summary.changed_files).toEqual(['f.txt']);
        expect(repo.git('show', `${r.summary.branch}:f.txt`)).toBe('X\n');
        expect(r.toolResults).toContain('moved=0');
        expect(r.summary.head_moved).toContain(target);
      }
      expect(repo.git('status', '--porcelain')).toBe('');
    },
  );
});

describe('a sandboxed task changes nothing of the user repository (issue 19 item 2)', () => {
  it(
    'commit, update-ref of main, a tag, writes into .git and another task branch all fail; no sandbox ' + 'leftovers',
    async () => {
      const repo = scratchRepo();
      const main = repo.git('rev-parse', 'main').trim();
      repo.git('branch', 'claude-tiers/victim', main);
      const refsBefore = refs(repo);
      const gitDir = join(repo.root, '.git');
      const steps = [
        `echo a > a.txt; git add a.txt && git -c user.email=e@x -c user.name=e commit -qm evil; echo commit=$?`,
        `git update-ref refs/heads/main HEAD; echo local_main=$?; git -C ${repo.root} update-ref ` +
          `refs/heads/main ${main}~0; echo user_main=$?`,
        `git -C ${repo.root} tag evil; echo tag=$?; git -C ${repo.root} update-ref ` +
          `refs/heads/claude-tiers/victim HEAD; echo victim=$?`,
        `echo x > ${gitDir}/planted; echo plant=$?; cp ${gitDir}/index ${gitDir}/index.copy; echo index=$?; ` +
          `mkdir -p ${gitDir}/modules/sub && echo '[core]' > ${gitDir}/modules/sub/config; echo modules=$?; echo ` +
          `STEPS_RAN`,
      ];
      const r = await runTask(repo, 'sandboxed', steps.map((s) => `[[bash:${s}]]`).join(''));
      expect(r.toolResults).toContain('STEPS_RAN');
      for (const name of ['user_main', 'tag', 'victim', 'plant', 'index', 'modules'])
        expect(r.toolResults).toMatch(new RegExp(`${name}=(?!0)\\d`));
      expect(
        refs(repo)
          .split('\n')
          .filter((l) => !l.startsWith(`refs/heads/${r.summary.branch}`)),
      ).toEqual(refsBefore.split('\n'));
      expect(repo.git('rev-parse', 'main').trim()).toBe(main);
      for (const p of [
        'planted',
        'index.copy',
        'modules',
        'config.worktree',
        'objects/info/alternates',
        'glab-cli',
        '.claude-sandbox-noreplace',
        'info/.claude-sandbox-noreplace',
      ])
        expect(existsSync(join(gitDir, p)), p).toBe(false);
      // The task's files reach its branch through the server, without the sandbox's placeholder files.
      expect(r.summary.changed_files).toEqual(['a.txt']);
      expect(repo.git('status', '--porcelain')).toBe('');
    },
  );

  it(
    "the task's own commits in its clone reach its branch, fetched back only when they descend from the " + 'base',
    async () => {
      const repo = scratchRepo();
      // A sandboxed task whose git steps in its clone printed `done` (they all ran), then wrote one more file: its
      // run, and the subjects of its branch.
      const sandboxedGit = async (steps: string, done: string, file: string) => {
        const r = await runTask(repo, 'sandboxed', `[[bash:${steps} && echo ${done}; echo ${file[0]} > ${file}]]`);
        expect(r.toolResults).toContain(done);
        return { ...r, subjects: subjects(repo, r.summary.branch!) };
      };
      const git = 'git -c user.email=e@x -c user.name=e';
      const r = await sandboxedGit(
        `echo a > a.txt && git add a.txt && ${git} commit -qm 'task commit'`,
        'COMMITTED',
        'b.txt',
      );
      expect(r.subjects).toEqual([expect.stringMatching(/^claude-tiers: task/), 'task commit', 'initial']);
      expect(r.summary.changed_files.sort()).toEqual(['a.txt', 'b.txt']);
      expect(r.summary.warnings).toBeUndefined();
      // Only the task's branch was written: the import ref is gone.
      expect(refNames(repo)).toEqual(['refs/heads/main', `refs/heads/${r.summary.branch}`].sort());
      // A branch the task rewrote to a history of its own is not taken: its files are, on the base.
      const orphan = await sandboxedGit(
        `B=$(git symbolic-ref HEAD) && C=$(${git} commit-tree -m orphan $(git mktree </dev/null)) && ` +
          'git update-ref $B $C',
        'ORPHANED',
        'o.txt',
      );
      expect(orphan.subjects).toEqual([expect.stringMatching(/^claude-tiers: task/), 'initial']);
      expect(orphan.summary.changed_files).toEqual(['o.txt']);
    },
  );

  it(
    "a clone branch rewritten to a history of its own is reported and not taken (the clone's git driven " + 'directly)',
    async () => {
      const repo = scratchRepo();
      const deps = { locks: new RepoLocks() };
      const wt = await cloneWorktree(repo, 't_orphan', deps);
      const inClone = (...args: string[]) =>
        execFileSync('git', ['-C', wt.path, '-c', 'user.email=e@x', '-c', 'user.name=e', ...args], {
          encoding: 'utf8',
        }).trim();
      const orphan = inClone('commit-tree', '-m', 'orphan', inClone('mktree', '--missing'));
      inClone('update-ref', `refs/heads/${wt.branch}`, orphan);
      writeFileSync(join(wt.path, 'o.txt'), 'o\n');
      const s = await finishWorktree(wt, { keep: false }, deps);
      expect(s.warnings?.join()).toMatch(/does not descend from the base commit; its files were committed on the base/);
      expect(subjects(repo, s.branch!)).toEqual([expect.stringMatching(/^claude-tiers: task/), 'initial']);
      expect(refNames(repo)).toEqual(['refs/heads/main', `refs/heads/${s.branch}`].sort());
    },
  );

  it(
    'the leftovers an earlier sandboxed worktree dropped in the user .git go when a sandboxed task starts, if ' +
      'still empty',
    async () => {
      const repo = scratchRepo();
      const gitDir = join(repo.root, '.git');
      writeFileSync(join(gitDir, 'config.worktree'), '');
      writeFileSync(join(gitDir, 'objects', 'info', 'alternates'), '');
      for (const d of ['glab-cli', 'info/.claude-sandbox-noreplace', 'objects/info/.claude-sandbox-noreplace'])
        mkdirSync(join(gitDir, d), { recursive: true });
      mkdirSync(join(gitDir, '.claude-sandbox-noreplace'));
      writeFileSync(join(gitDir, '.claude-sandbox-noreplace', 'keep'), 'not empty: not ours to delete');
      const wt = await cloneWorktree(repo, 't_leftovers');
      for (const p of [
        'config.worktree',
        'objects/info/alternates',
        'glab-cli',
        'info/.claude-sandbox-noreplace',
        'objects/info/.claude-sandbox-noreplace',
      ])
        expect(existsSync(join(gitDir, p)), p).toBe(false);
      expect(existsSync(join(gitDir, '.claude-sandbox-noreplace', 'keep'))).toBe(true);
      await finishWorktree(wt, { keep: false }, { locks: new RepoLocks() });
    },
  );

  it(
    'an interrupted sandbox leaves empty placeholder dotfiles: they are not committed to the task ' + 'branch',
    async () => {
      const repo = scratchRepo();
      const wt = await cloneWorktree(repo, 't_placeholders');
      for (const name of ['.bashrc', '.gitconfig', '.mcp.json', '.zshrc']) writeFileSync(join(wt.path, name), '');
      mkdirSync(join(wt.path, '.claude'));
      writeFileSync(join(wt.path, '.claude', 'settings.json'), '');
      writeFileSync(join(wt.path, 'work.txt'), 'work\n');
      const s = await finishWorktree(wt, { keep: false }, { locks: new RepoLocks() });
      expect(s.changed_files).toEqual(['work.txt']);
      expect(
        execFileSync('git', ['-C', repo.root, 'ls-tree', '-r', '--name-only', s.branch!], { encoding: 'utf8' }),
      ).not.toMatch(/bashrc|gitconfig|mcp\.json|zshrc|settings\.json/);
    },
  );
});

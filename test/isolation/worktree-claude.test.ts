import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildClaudeArgs, buildClaudeEnv } from '../../src/claude/args.js';
import { ClaudeRun } from '../../src/claude/run.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { RepoLocks } from '../../src/isolation/repo-locks.js';
import { finishWorktree, prepareWorktree } from '../../src/isolation/worktree.js';
import { REAL_CLAUDE } from '../support/harness.js';
import { claudePerFile, runLimits } from '../support/per-file.js';
import { scratchRepo } from './git-repo.js';

// The real claude (comprehensive tier's flags) working in a prepared worktree: its Bash write lands on the task's
// branch, never in the user's tree.
const f = claudePerFile();
const { table } = f;
const limits = runLimits(60_000, 60_000);

describe('worktree with the real claude', () => {
  it.each(['comprehensive', 'sandboxed'])(
    'a Bash write by claude (%s tier) lands on the task branch, not in the user tree',
    async (tierName) => {
      const repo = scratchRepo();
      const head = repo.git('rev-parse', 'HEAD');
      const deps = { locks: new RepoLocks() };
      const wt = await prepareWorktree(
        {
          cwd: join(repo.root, 'src'),
          taskId: `t_e2e_${tierName}`,
          stateDir: mkdtempSync(join(tmpdir(), 'ct-wtstate-')),
        },
        deps,
      );
      const tier = { ...defaultConfig().tiers[tierName]!, mcpConfig: null, partialMessages: false };
      const args = buildClaudeArgs(tier, { mcpConfigPath: null });
      const run = new ClaudeRun(
        { bin: REAL_CLAUDE, args, cwd: wt.cwdInWorktree, env: buildClaudeEnv(tier, f.env(), 0), maxLineBytes: 1 << 20 },
        table,
        { interruptWaitMs: 1000, killGraceMs: 1000 },
      );
      run.send('[[bash:echo hello > note.txt; echo WROTE]]', limits);
      const outcome = await run.outcome;
      await run.ended;
      expect(outcome.kind === 'result' && outcome.result.result).toMatch(/WROTE/);
      const s = await finishWorktree(wt, { keep: false, reason: 'succeeded' }, deps);
      expect(s.branch).toBe(`claude-tiers/t_e2e_${tierName}`);
      expect(s.changed_files).toEqual(['src/note.txt']);
      expect(repo.git('show', `${s.branch}:src/note.txt`)).toBe('hello\n');
      expect(existsSync(join(repo.root, 'src', 'note.txt'))).toBe(false);
      expect(repo.git('status', '--porcelain')).toBe('');
      expect(repo.git('rev-parse', 'HEAD')).toBe(head);
      expect(repo.git('worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    },
  );
});

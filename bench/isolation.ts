import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClaudeArgs, buildClaudeEnv } from '../src/claude/args.js';
import { ClaudeRun } from '../src/claude/run.js';
import { ProcessTable } from '../src/claude/spawn.js';
import { defaultConfig } from '../src/config/defaults.js';
import { RepoLocks } from '../src/isolation/repo-locks.js';
import { finishWorktree, prepareWorktree } from '../src/isolation/worktree.js';
import { REAL_CLAUDE } from '../test/support/harness.js';
import { claudeEnv, makeTempHome, type ScriptedApi } from '../test/support/scripted-api.js';
import { report } from './report.js';
import { median, pct, round } from './stats.js';

// A repository of `files` files in 20 folders, one commit.
function benchRepo(files: number): string {
  const root = mkdtempSync(join(tmpdir(), 'ct-bench-iso-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  for (let i = 0; i < files; i++) {
    const dir = join(root, `d${i % 20}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`.repeat(20));
  }
  git('add', '-A');
  git('-c', 'user.name=b', '-c', 'user.email=b@localhost', 'commit', '-qm', 'base');
  return root;
}

type Kind = 'clone' | 'worktree';

// isolation: what a sandboxed task's own repository (a clone sharing the user's objects) costs against a linked git
// worktree: prepare + finish alone, and a whole sandboxed task (prepare, claude with one Bash write, sealed commit).
export async function benchIsolation(api: ScriptedApi, reps = 6, files = 1000): Promise<void> {
  const repo = benchRepo(files);
  const stateDir = mkdtempSync(join(tmpdir(), 'ct-bench-iso-state-'));
  const home = await makeTempHome();
  const table = new ProcessTable();
  const tier = { ...defaultConfig().tiers.sandboxed!, partialMessages: false };
  const times: Record<string, number[]> = {};
  const add = (k: string, ms: number) => (times[k] ??= []).push(ms);
  let n = 0;
  try {
    for (let i = 0; i < reps; i++) {
      // Interleaved, so the machine's load falls on both kinds alike.
      for (const kind of ['worktree', 'clone'] as Kind[]) {
        const deps = { locks: new RepoLocks() };
        let t = performance.now();
        const idle = await prepareWorktree(
          { cwd: repo, taskId: `b_idle_${n++}`, stateDir, clone: kind === 'clone' },
          deps,
        );
        add(`prepare ${kind}`, performance.now() - t);
        t = performance.now();
        await finishWorktree(idle, { keep: false }, deps);
        add(`finish ${kind} (no change)`, performance.now() - t);
        t = performance.now();
        const wt = await prepareWorktree(
          { cwd: repo, taskId: `b_task_${n++}`, stateDir, clone: kind === 'clone' },
          deps,
        );
        const run = new ClaudeRun(
          {
            bin: REAL_CLAUDE,
            args: buildClaudeArgs(tier, { mcpConfigPath: null }),
            cwd: wt.cwdInWorktree,
            env: buildClaudeEnv(tier, claudeEnv(api, home), 0),
            maxLineBytes: 1 << 20,
          },
          table,
          { interruptWaitMs: 1000, killGraceMs: 1000 },
        );
        run.send('bench isolation [[bash:echo x > bench.txt; echo ok]]', {
          wallMs: 60_000,
          idleMs: 60_000,
          wallStop: { reason: 'wall_timeout', message: 'wall' },
          idleStop: { reason: 'idle_timeout', message: 'idle' },
        });
        const outcome = await run.outcome;
        await run.ended;
        const s = await finishWorktree(wt, { keep: false }, deps);
        add(`task ${kind}`, performance.now() - t);
        if (outcome.kind !== 'result' || s.changed_files.join() !== 'bench.txt')
          throw new Error(`bench isolation: the ${kind} task did not write bench.txt: ${JSON.stringify(s)}`);
      }
    }
  } finally {
    table.killAllSync();
  }
  const row = (what: string, key: string) => {
    const c = times[`${key.replace('%', 'clone')}`]!;
    const w = times[`${key.replace('%', 'worktree')}`]!;
    return {
      what,
      clone_median_ms: round(median(c)),
      worktree_median_ms: round(median(w)),
      ratio: round(median(c) / median(w), 3),
      added_ms: round(median(c) - median(w)),
      clone_p90_ms: round(pct(c, 90)),
      worktree_p90_ms: round(pct(w, 90)),
    };
  };
  report(
    'isolation',
    [
      row('prepare (sandboxed: clone; other tiers: worktree)', 'prepare %'),
      row('finish, no change (sealed commit check, removal)', 'finish % (no change)'),
      row('whole sandboxed task: prepare, claude + 1 Bash write, sealed commit, removal', 'task %'),
    ],
    { reps, repo_files: files, note: 'interleaved; the machine is shared, read the ratio' },
  );
}

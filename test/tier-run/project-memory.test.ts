import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_PROJECT_MEMORY } from '../../src/context-files.js';
import { configFile, startServer, type StartedServer } from '../support/harness.js';
import { apiPerFile } from '../support/per-file.js';
import { viewOf } from '../support/views.js';

// A modular tier reads only the user's settings source and its cwd as an added folder (--add-dir=.), which leaves
// out the CLAUDE.md files of the folders above the cwd; they come in as appended text instead, up to the
// repository's top (else the allowed root), never through a symlink out of the project or into the state dir.
// Replayed on the real claude (2.1.330) against the scripted API: what reaches the model is what its requests hold.
const f = apiPerFile();
const rand = () => Math.random().toString(36).slice(2);
const mark = (name: string) => `${name}_${rand()}`;
const M = {
  above: mark('ABOVE_REPO'),
  root: mark('ROOT_MD'),
  rootLocal: mark('ROOT_LOCAL'),
  rootDot: mark('ROOT_DOT_CLAUDE'),
  sub: mark('SUB_MD'),
  subLocal: mark('SUB_LOCAL'),
  outside: mark('OUTSIDE_ROOTS'),
  tail: mark('PAST_THE_CUT'),
  plainLocal: mark('PLAIN_LOCAL'),
  state: mark('STATE_DIR'),
};

/** Everything claude sent the API for the prompt holding `marker`, as one string. */
const sent = (marker: string): string =>
  JSON.stringify(f.api.messageRequests((r) => JSON.stringify(r.messages ?? []).includes(marker)));

// The allowed root `outer` holds a repository (cwd: one of its subfolders), a plain folder, and the state dir.
function layout(): { outer: string; repo: string; plain: string; stateDir: string } {
  const outer = mkdtempSync(join(tmpdir(), 'ct-pm-root-'));
  const stateDir = join(outer, 'state');
  mkdirSync(stateDir, { mode: 0o700 });
  writeFileSync(join(stateDir, 'secret.md'), M.state);
  writeFileSync(join(outer, 'CLAUDE.md'), M.above);
  const repo = join(outer, 'repo');
  mkdirSync(join(repo, '.claude'), { recursive: true });
  execFileSync('git', ['-C', repo, 'init', '-q', '-b', 'main']);
  writeFileSync(join(repo, 'CLAUDE.md'), M.root);
  writeFileSync(join(repo, 'CLAUDE.local.md'), M.rootLocal);
  writeFileSync(join(repo, '.claude', 'CLAUDE.md'), M.rootDot);
  mkdirSync(join(repo, 'sub'));
  writeFileSync(join(repo, 'sub', 'CLAUDE.md'), M.sub);
  writeFileSync(join(repo, 'sub', 'CLAUDE.local.md'), M.subLocal);
  // A task's plants: a symlink to a file outside the roots, a FIFO (must not block), a file past the size bound.
  const outside = join(mkdtempSync(join(tmpdir(), 'ct-pm-outside-')), 'notes.md');
  writeFileSync(outside, M.outside);
  mkdirSync(join(repo, 'mid', 'deeper', '.claude'), { recursive: true });
  mkdirSync(join(repo, 'mid', '.claude'));
  symlinkSync(outside, join(repo, 'mid', 'CLAUDE.md'));
  execFileSync('mkfifo', [join(repo, 'mid', '.claude', 'CLAUDE.md')]);
  writeFileSync(join(repo, 'mid', 'CLAUDE.local.md'), `${'x'.repeat(MAX_PROJECT_MEMORY + 10)}${M.tail}`);
  // No repository: the walk goes up to the allowed root; a symlink into the state dir is not followed.
  const plain = join(outer, 'plain');
  mkdirSync(join(plain, 'sub'), { recursive: true });
  symlinkSync(join(stateDir, 'secret.md'), join(plain, 'CLAUDE.md'));
  writeFileSync(join(plain, 'CLAUDE.local.md'), M.plainLocal);
  return { outer, repo, plain, stateDir };
}

async function ask(s: StartedServer, args: Record<string, unknown>): Promise<string> {
  const m = `ASK-${rand()}`;
  const result = await s.client.callTool({ name: 'quick_answer', arguments: { ...args, prompt: `${m} [[text:ok]]` } });
  expect(result.isError, JSON.stringify(result)).toBeFalsy();
  return sent(m);
}

describe('CLAUDE.md files above the cwd', () => {
  it(
    'reach a modular run (up to the repo top or the allowed root), not a minimal one, never through a symlink ' + 'out',
    async () => {
      const { outer, repo, plain, stateDir } = layout();
      const config = configFile({ allowedRoots: [outer], tiers: { comprehensive: { mcpConfig: null } } });
      const s = await startServer(f.api, { cwd: outer, stateDir, env: { CLAUDE_TIERS_CONFIG: config } });
      f.keep(s);
      const sub = join(repo, 'sub');

      // Modular, shared files (no system_prompt): the repository's files and the cwd's own, none above the repo.
      const modular = await ask(s, { cwd: sub, tier: 'comprehensive' });
      for (const m of [M.root, M.rootLocal, M.rootDot, M.sub, M.subLocal])
        expect([m, modular.includes(m)]).toEqual([m, true]);
      expect([M.above, modular.includes(M.above)]).toEqual([M.above, false]);
      // The cwd's CLAUDE.md comes once, as the added folder's memory; only its CLAUDE.local.md is appended.
      expect(modular.includes(`# Project memory: ${join(realpathSync(sub), 'CLAUDE.md')}`)).toBe(false);

      // Minimal: no CLAUDE.md at all.
      const minimal = await ask(s, { cwd: sub, tier: 'speed' });
      for (const m of [M.root, M.rootLocal, M.rootDot, M.sub, M.subLocal])
        expect([m, minimal.includes(m)]).toEqual([m, false]);

      // A deep_task (files of its own): the symlink out of the roots and the FIFO are skipped, the big file is cut.
      const m = `TASK-${rand()}`;
      const args = { prompt: `${m} [[text:ok]]`, cwd: join(repo, 'mid', 'deeper'), tier: 'comprehensive', wait_s: 0 };
      let v = viewOf(await s.client.callTool({ name: 'deep_task', arguments: args }));
      for (const end = Date.now() + 90_000; !v.final && Date.now() < end;) {
        const more = { task_id: v.task_id, wait_s: 10, cursor: v.cursor };
        v = viewOf(await s.client.callTool({ name: 'task_status', arguments: more }));
      }
      expect(v.state).toBe('succeeded');
      const deep = sent(m);
      expect([M.root, deep.includes(M.root)]).toEqual([M.root, true]);
      expect([M.outside, deep.includes(M.outside)]).toEqual([M.outside, false]);
      expect([M.tail, deep.includes(M.tail)]).toEqual([M.tail, false]);
      expect(/\[cut: [^\]]*CLAUDE\.local\.md has \d+ bytes/.test(deep)).toBe(true);

      // No repository (a request's system prompt: files of its own): up to the allowed root, not into the state dir.
      const bare = await ask(s, { cwd: join(plain, 'sub'), tier: 'comprehensive', system_prompt: 'Be brief.' });
      expect([M.above, bare.includes(M.above)]).toEqual([M.above, true]);
      expect([M.plainLocal, bare.includes(M.plainLocal)]).toEqual([M.plainLocal, true]);
      expect([M.state, bare.includes(M.state)]).toEqual([M.state, false]);
    },
  );
});

describe('CLAUDE.md files above the cwd of an isolated task', () => {
  it("come from the task's worktree, up to its root, not from the folder it was made from", async () => {
    const outer = mkdtempSync(join(tmpdir(), 'ct-pm-wt-'));
    const repo = join(outer, 'repo');
    mkdirSync(join(repo, 'sub'), { recursive: true });
    const git = (...a: string[]) => execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    const committed = mark('COMMITTED_ROOT');
    const uncommitted = mark('UNCOMMITTED_ROOT');
    writeFileSync(join(repo, 'CLAUDE.md'), committed);
    writeFileSync(join(repo, 'sub', 'README'), 'x\n');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'base');
    // In the folder only: the task's worktree (made from HEAD) does not have it.
    writeFileSync(join(repo, 'CLAUDE.local.md'), uncommitted);
    const config = configFile({ allowedRoots: [outer], tiers: { comprehensive: { mcpConfig: null } } });
    const s = await startServer(f.api, { cwd: outer, env: { CLAUDE_TIERS_CONFIG: config } });
    f.keep(s);
    const m = `WT-${rand()}`;
    const args = { prompt: `${m} [[text:ok]]`, cwd: join(repo, 'sub'), isolation: 'worktree', wait_s: 0 };
    let v = viewOf(await s.client.callTool({ name: 'deep_task', arguments: { ...args, tier: 'comprehensive' } }));
    for (const end = Date.now() + 90_000; !v.final && Date.now() < end;) {
      const more = { task_id: v.task_id, wait_s: 10, cursor: v.cursor };
      v = viewOf(await s.client.callTool({ name: 'task_status', arguments: more }));
    }
    expect(v.state).toBe('succeeded');
    const text = sent(m);
    expect([committed, text.includes(committed)]).toEqual([committed, true]);
    expect(new RegExp(`# Project memory: ${s.stateDir}[^"]*/worktrees/[^"]*/CLAUDE\\.md`).test(text)).toBe(true);
    expect([uncommitted, text.includes(uncommitted)]).toEqual([uncommitted, false]);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configFile,
  processesMatching,
  runCli,
  startServer,
  textOf,
  uniqueSleep,
  waitFor,
  type StartedServer,
} from '../support/harness.js';
import { apiPerFile } from '../support/per-file.js';
import { viewOf, type TaskView as View } from '../support/views.js';

// merge_task through a real MCP client: tasks of the real claude write on their branches, merge_task brings them back.
const shared = apiPerFile();
let repo: string;
let s: StartedServer;
let config: string;
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();

beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), 'ct-merge-repo-'));
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README'), 'base\n');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'base');
  config = configFile({ allowedRoots: [repo], tiers: { comprehensive: { mcpConfig: null } } });
  s = await startServer(shared.api, { cwd: repo, env: { CLAUDE_TIERS_CONFIG: config } });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

async function finished(prompt: string): Promise<View> {
  const args = { prompt, cwd: repo, isolation: 'worktree', wait_s: 30 };
  let v = viewOf(await s.client.callTool({ name: 'deep_task', arguments: args }));
  while (!v.final)
    v = viewOf(await s.client.callTool({ name: 'task_status', arguments: { task_id: v.task_id, wait_s: 10 } }));
  return v;
}
const merge = (args: Record<string, unknown>) => s.client.callTool({ name: 'merge_task', arguments: args });

describe('merge_task', () => {
  it(
    'merges a task into the checked-out branch, refuses a conflict and a dirty tree, and changes nothing ' + 'then',
    async () => {
      const a = await finished('[[bash:echo one > a.txt]]');
      const b = await finished('[[bash:echo two > a.txt]]');
      expect([a.state, b.state]).toEqual(['succeeded', 'succeeded']);

      const first = await merge({ task_id: a.task_id });
      expect(first.isError).toBeFalsy();
      expect(textOf(first)).toMatch(new RegExp(`merged task ${a.task_id} .* into main`));
      expect(readFileSync(join(repo, 'a.txt'), 'utf8')).toBe('one\n');
      expect(git('status', '--porcelain')).toBe('');

      const head = git('rev-parse', 'main');
      const clash = await merge({ task_id: b.task_id, strategy: 'squash' });
      expect(clash.isError).toBe(true);
      expect(textOf(clash)).toMatch(/conflicts with main in a\.txt; nothing was changed/);
      expect(git('rev-parse', 'main')).toBe(head);

      const c = await finished('[[bash:echo three > c.txt]]');
      writeFileSync(join(repo, 'README'), 'my work in progress\n');
      const dirty = await merge({ task_id: c.task_id });
      expect(dirty.isError).toBe(true);
      expect(textOf(dirty)).toMatch(/uncommitted changes the merge would touch: README/);
      expect(readFileSync(join(repo, 'README'), 'utf8')).toBe('my work in progress\n');
      expect(git('rev-parse', 'main')).toBe(head);

      git('branch', 'release', 'main');
      const elsewhere = await merge({ task_id: c.task_id, into: 'release', strategy: 'squash' });
      expect(textOf(elsewhere)).toMatch(/into release as one squashed commit/);
      expect(git('show', 'release:c.txt')).toBe('three');
      expect(git('rev-parse', 'main')).toBe(head);
      git('checkout', '--', 'README');
    },
  );

  it('refuses a running task, a task without a worktree, and bad input, naming the field', async () => {
    const marker = uniqueSleep(120);
    const running = viewOf(
      await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:echo x; sleep ${marker}]]`, cwd: repo, isolation: 'worktree', wait_s: 0 },
      }),
    );
    await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 30_000);
    expect(textOf(await merge({ task_id: running.task_id }))).toMatch(/is running; merge it once it has ended/);
    await s.client.callTool({ name: 'kill_task', arguments: { task_id: running.task_id } });
    const plain = viewOf(
      await s.client.callTool({ name: 'deep_task', arguments: { prompt: '[[text:hi]]', cwd: repo, wait_s: 30 } }),
    );
    expect(textOf(await merge({ task_id: plain.task_id }))).toMatch(/did not run in a worktree/);
    expect(textOf(await merge({ task_id: plain.task_id, strategy: 'rebase' }))).toMatch(
      /strategy must be "merge" or "squash"/,
    );
  });

  it('claude-tiers merge: the same merge from a terminal; a refusal is one line on stderr and exit 1', async () => {
    const env = {
      ...(process.env as Record<string, string>),
      HOME: s.home,
      CLAUDE_TIERS_STATE_DIR: s.stateDir,
      CLAUDE_TIERS_CONFIG: config,
    };
    const a = await finished('[[bash:echo cli > cli.txt]]');
    const b = await finished('[[bash:echo other > cli.txt]]');
    const ok = await runCli(['merge', a.task_id, '--squash'], { env, cwd: repo });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`merged task ${a.task_id} .* into main as one squashed commit`));
    expect(git('show', 'main:cli.txt')).toBe('cli');
    const clash = await runCli(['merge', b.task_id], { env, cwd: repo });
    expect(clash.code).toBe(1);
    expect(clash.stdout).toBe('');
    expect(clash.stderr.trim().split('\n')).toHaveLength(1);
    expect(clash.stderr).toMatch(/conflicts with main in cli\.txt; nothing was changed/);
    expect((await runCli(['merge'], { env, cwd: repo })).code).toBe(2);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import {
  processesMatching,
  startServer,
  textOf,
  uniqueSleep,
  waitFor,
  type StartedServer,
} from '../support/harness.js';
import { finalView, viewOf, type TaskView } from '../support/views.js';

// Issue 20 item 2: one stop record (a task's worktree commit and its record say the same), and a follow-up's images
// resolved against the task's cwd.
let api: ScriptedApi;
let s: StartedServer;
let repo: string;
let first: string;
// The smallest valid PNG: one transparent pixel.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();

beforeAll(async () => {
  api = await startScriptedApi();
  // The first allowed root is not the repository: a path resolved against it finds nothing.
  first = mkdtempSync(join(tmpdir(), 'ct-first-root-'));
  repo = mkdtempSync(join(tmpdir(), 'ct-tier-run-repo-'));
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README'), 'base\n');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'base');
  writeFileSync(join(repo, 'dot.png'), PNG);
  const config = join(mkdtempSync(join(tmpdir(), 'ct-tier-run-cfg-')), 'config.json');
  writeFileSync(config, JSON.stringify({ allowedRoots: [first, repo], tiers: { comprehensive: { mcpConfig: null } } }));
  s = await startServer(api, { cwd: repo, env: { CLAUDE_TIERS_CONFIG: config } });
});
afterAll(async () => {
  await s?.close();
  await api?.close();
});

const final = (id: string): Promise<TaskView> => finalView(s.client, id);

describe('one stop record', () => {
  it('a task stopped by its own timer: its worktree commit names the same stop as its record', async () => {
    const marker = uniqueSleep(300);
    const args = {
      prompt: `[[bash:echo partial > half.txt; sleep ${marker}]]`,
      cwd: repo,
      isolation: 'worktree',
      timeout_s: 20,
      wait_s: 0,
    };
    const id = viewOf(await s.client.callTool({ name: 'deep_task', arguments: args })).task_id;
    await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 30_000);
    const v = await final(id);
    expect(v.state).toBe('timed_out');
    const record = JSON.parse(readFileSync(join(s.stateDir, 'tasks', id, 'record.json'), 'utf8')) as {
      end: { reason: string };
    };
    expect(record.end.reason).toBe('wall_timeout');
    expect(git('show', `claude-tiers/${id}:half.txt`)).toBe('partial');
    expect(git('log', '-1', '--format=%s', `claude-tiers/${id}`)).toBe(
      `claude-tiers: task ${id} (${record.end.reason})`,
    );
  });
});

describe('a follow-up with images', () => {
  it("resolves a relative image path against the task's cwd, not the first allowed root", async () => {
    const done = viewOf(
      await s.client.callTool({ name: 'deep_task', arguments: { prompt: '[[text:first]]', cwd: repo, wait_s: 30 } }),
    );
    expect((await final(done.task_id)).state).toBe('succeeded');
    const tag = `FOLLOWIMG_${Date.now()}`;
    const r = await s.client.callTool({
      name: 'deep_task',
      arguments: {
        prompt: `${tag} [[text:seen]]`,
        continue_task_id: done.task_id,
        images: [{ path: 'dot.png' }],
        wait_s: 30,
      },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect((await final(viewOf(r).task_id)).state).toBe('succeeded');
    const blocks = api.requests
      .filter((q) => q.firstUserText.includes(tag) || JSON.stringify(q.messages).includes(tag))
      .flatMap((q) =>
        (q.messages as Array<{ content: unknown }>).flatMap((m) => (Array.isArray(m.content) ? m.content : [])),
      )
      .filter((b) => (b as { type?: string }).type === 'image') as Array<{ source: { data: string } }>;
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks.every((b) => b.source.data === PNG.toString('base64'))).toBe(true);
  });
});

describe("a follow-up's cwd", () => {
  it("is the earlier task's: another folder is refused naming cwd, the same folder through a link is not", async () => {
    const done = viewOf(
      await s.client.callTool({ name: 'deep_task', arguments: { prompt: '[[text:one]]', cwd: repo, wait_s: 30 } }),
    );
    expect((await final(done.task_id)).state).toBe('succeeded');
    const other = await s.client.callTool({
      name: 'deep_task',
      arguments: { prompt: '[[text:two]]', continue_task_id: done.task_id, cwd: first, wait_s: 0 },
    });
    expect(other.isError).toBe(true);
    expect(textOf(other)).toMatch(/^cwd: a follow-up runs in the cwd of task t_\S+ \(.*\); omit cwd/);
    const link = join(first, 'repo-link');
    symlinkSync(repo, link);
    const same = await s.client.callTool({
      name: 'deep_task',
      arguments: { prompt: '[[text:three]]', continue_task_id: done.task_id, cwd: link, wait_s: 30 },
    });
    expect(same.isError, textOf(same)).toBeFalsy();
    const v = await final(viewOf(same).task_id);
    expect(v.state).toBe('succeeded');
    expect(v.cwd).toBe(done.cwd);
  });
});

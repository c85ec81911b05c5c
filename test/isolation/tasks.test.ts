import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
import { finalView, viewOf, type TaskView as View } from '../support/views.js';

// Issue 13 through the server: deep_task with isolation "worktree", and the sandboxed tier, on a scratch repository.
let api: ScriptedApi;
let repo: string;
let config: string;
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();

beforeAll(async () => {
  api = await startScriptedApi();
  repo = mkdtempSync(join(tmpdir(), 'ct-iso-repo-'));
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README'), 'base\n');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'base');
  config = join(mkdtempSync(join(tmpdir(), 'ct-iso-cfg-')), 'config.json');
  writeFileSync(config, JSON.stringify({ allowedRoots: [repo], tiers: { comprehensive: { mcpConfig: null } } }));
});
afterAll(async () => {
  await api?.close();
});

const start = (extra: Record<string, string> = {}) =>
  startServer(api, { cwd: repo, env: { CLAUDE_TIERS_CONFIG: config, ...extra } });
const final = (s: StartedServer, id: string): Promise<View> => finalView(s.client, id, 60_000);

describe('isolation: a git worktree per task', () => {
  it(
    'three at once on one repo: each branch holds only its own content; the user tree, index and HEAD are ' +
      'unchanged',
    async () => {
      const s = await start();
      try {
        const head = git('rev-parse', 'HEAD');
        const ids = await Promise.all(
          ['one', 'two', 'three'].map(
            async (w) =>
              viewOf(
                await s.client.callTool({
                  name: 'deep_task',
                  arguments: { prompt: `[[bash:echo ${w} > same.txt]]`, cwd: repo, isolation: 'worktree', wait_s: 0 },
                }),
              ).task_id,
          ),
        );
        const views = await Promise.all(ids.map((id) => final(s, id)));
        expect(views.map((v) => v.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
        for (const [i, w] of ['one', 'two', 'three'].entries()) {
          expect(views[i]!.worktree?.branch).toBe(`claude-tiers/${ids[i]}`);
          expect(views[i]!.worktree?.changed_files).toEqual(['same.txt']);
          expect(git('show', `claude-tiers/${ids[i]}:same.txt`)).toBe(w);
        }
        expect(git('status', '--porcelain')).toBe('');
        expect(git('rev-parse', 'HEAD')).toBe(head);
        expect(existsSync(join(repo, 'same.txt'))).toBe(false);
        expect(git('worktree', 'list').split('\n')).toHaveLength(1);
        // The result links the task's diff as a resource.
        const reply = await s.client.callTool({ name: 'task_status', arguments: { task_id: ids[0] } });
        const link = (reply.content as Array<{ type: string; uri?: string }>).find(
          (c) => c.type === 'resource_link' && c.uri?.endsWith('/diff'),
        );
        const diff = await s.client.readResource({ uri: link!.uri! });
        expect((diff.contents[0] as { text: string }).text).toMatch(/\+\+\+ b\/same\.txt[\s\S]*\n\+one/);
      } finally {
        await s.close();
      }
    },
  );

  it(
    'a task with no changes leaves no branch; a task killed mid-Bash keeps its partial work on its ' + 'branch',
    async () => {
      const s = await start();
      try {
        const quiet = await final(
          s,
          viewOf(
            await s.client.callTool({
              name: 'deep_task',
              arguments: { prompt: '[[text:nothing to do]]', cwd: repo, isolation: 'worktree', wait_s: 10 },
            }),
          ).task_id,
        );
        expect(quiet.state).toBe('succeeded');
        expect(quiet.worktree?.branch).toBeNull();
        expect(git('branch', '--list', `claude-tiers/${quiet.task_id}`)).toBe('');
        const marker = uniqueSleep(120);
        const id = viewOf(
          await s.client.callTool({
            name: 'deep_task',
            arguments: {
              prompt: `[[bash:echo partial > half.txt; sleep ${marker}]]`,
              cwd: repo,
              isolation: 'worktree',
              wait_s: 0,
            },
          }),
        ).task_id;
        await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 20_000);
        const killed = viewOf(await s.client.callTool({ name: 'kill_task', arguments: { task_id: id } }));
        expect(killed.state).toBe('killed');
        expect(git('show', `claude-tiers/${id}:half.txt`)).toBe('partial');
        expect(existsSync(join(s.stateDir, 'worktrees', id))).toBe(false);
      } finally {
        await s.close();
      }
    },
  );

  it(
    'a server SIGKILLed during an isolated task: after a restart the task is lost, its work on its branch, no ' +
      'stale worktree',
    async () => {
      const first = await start();
      const marker = uniqueSleep(120);
      const id = viewOf(
        await first.client.callTool({
          name: 'deep_task',
          arguments: {
            prompt: `[[bash:echo lost-work > lost.txt; sleep ${marker}]]`,
            cwd: repo,
            isolation: 'worktree',
            wait_s: 0,
          },
        }),
      ).task_id;
      await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 20_000);
      process.kill(first.pid, 'SIGKILL');
      await first.close().catch(() => {});
      const second = await startServer(api, {
        cwd: repo,
        stateDir: first.stateDir,
        home: first.home,
        env: { CLAUDE_TIERS_CONFIG: config },
      });
      try {
        const v = viewOf(await second.client.callTool({ name: 'task_status', arguments: { task_id: id } }));
        expect(v.state).toBe('lost');
        expect(git('show', `claude-tiers/${id}:lost.txt`)).toBe('lost-work');
        expect(git('worktree', 'list').split('\n')).toHaveLength(1);
      } finally {
        await second.close();
      }
    },
  );
});

describe('the sandboxed tier', () => {
  it('writes in its worktree without asking; a write outside fails inside the sandbox', async () => {
    const s = await start();
    try {
      const outside = join(mkdtempSync(join(tmpdir(), 'ct-outside-')), 'escape.txt');
      const id = viewOf(
        await s.client.callTool({
          name: 'deep_task',
          arguments: {
            prompt: `[[bash:echo inside > in.txt; echo escape > ${outside} || echo refused]]`,
            cwd: repo,
            tier: 'sandboxed',
            wait_s: 0,
          },
        }),
      ).task_id;
      const v = await final(s, id);
      expect(v.state).toBe('succeeded');
      expect(git('show', `claude-tiers/${id}:in.txt`)).toBe('inside');
      expect(existsSync(outside)).toBe(false);
      expect(v.result?.text).toMatch(/Read-only file system|refused/);
    } finally {
      await s.close();
    }
  });

  it('refuses with the Debian package names, and starts no claude, when bubblewrap is missing', async () => {
    const s = await start({ PATH: '/nonexistent-bin' });
    try {
      const before = api.requests.length;
      const r = viewOf(
        await s.client.callTool({
          name: 'deep_task',
          arguments: { prompt: 'never runs', cwd: repo, tier: 'sandboxed', wait_s: 10 },
        }),
      );
      const v = r.final ? r : await final(s, r.task_id);
      expect(v.state).toBe('failed');
      expect(textOf(await s.client.callTool({ name: 'task_status', arguments: { task_id: v.task_id } }))).toMatch(
        /bubblewrap/,
      );
      expect(api.requests.length).toBe(before);
      expect(readFileSync(join(s.stateDir, 'tasks', v.task_id, 'record.json'), 'utf8')).not.toContain('"process"');
    } finally {
      await s.close();
    }
  });
});

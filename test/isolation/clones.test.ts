import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile, startServer, textOf, type StartedServer } from '../support/harness.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { finalView, viewOf, type TaskView as View } from '../support/views.js';

// Issue 19 items 3 and 5 through the server and a real MCP client: sandboxed tasks side by side on one repository,
// each in a clone of its own; a gitfile cannot lead a worktree out of the allowed roots.
let api: ScriptedApi;
let roots: string;
let repo: string;
let server: StartedServer;
const gitIn = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
// The text of every tool_result claude sent back, in order.
const toolResults = (messages: unknown[]): string[] =>
  (messages as Array<{ role: string; content: unknown }>).flatMap((m) =>
    m.role === 'user' && Array.isArray(m.content)
      ? (m.content as Array<{ type: string; content?: unknown }>)
          .filter((b) => b.type === 'tool_result')
          .map((b) => (typeof b.content === 'string' ? b.content : JSON.stringify(b.content)))
      : [],
  );
const ROUNDS = Number(process.env.CT_SANDBOX_ROUNDS) || 2;

function newRepo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  gitIn(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'README'), 'base\n');
  gitIn(dir, 'add', '.');
  gitIn(dir, '-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'base');
}

beforeAll(async () => {
  api = await startScriptedApi();
  roots = mkdtempSync(join(tmpdir(), 'ct-roots-'));
  repo = join(roots, 'repo');
  newRepo(repo);
  const config = configFile({ allowedRoots: [roots], tiers: { comprehensive: { mcpConfig: null } } });
  server = await startServer(api, { cwd: repo, env: { CLAUDE_TIERS_CONFIG: config } });
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

const final = (id: string): Promise<View> => finalView(server.client, id);

describe('sandboxed tasks side by side on one repository (issue 19 item 3)', () => {
  it(
    `three at once get a working sandbox each, ${ROUNDS} rounds in a row: every Bash step really ran`,
    async () => {
      const head = gitIn(repo, 'rev-parse', 'HEAD');
      for (let round = 0; round < ROUNDS; round++) {
        const names = ['one', 'two', 'three'].map((w) => `${w}-${round}`);
        // Two Bash steps each, the second only reached after the first printed: a broken sandbox fails the step.
        const ids = await Promise.all(
          names.map(
            async (w) =>
              viewOf(
                await server.client.callTool({
                  name: 'deep_task',
                  arguments: {
                    prompt:
                      `[[bash:echo ${w} > same.txt && echo STEP1_${w}]][[bash:cat same.txt && git status ` +
                      `--short >/dev/null && echo STEP2_${w}]]`,
                    cwd: repo,
                    tier: 'sandboxed',
                    wait_s: 0,
                  },
                }),
              ).task_id,
          ),
        );
        const views = await Promise.all(ids.map((id) => final(id)));
        for (const [i, w] of names.entries()) {
          const v = views[i]!;
          const transcript = textOf(
            await server.client.callTool({ name: 'task_status', arguments: { task_id: ids[i] } }),
          );
          expect(v.state, `round ${round} ${w}: ${transcript}`).toBe('succeeded');
          const sent = toolResults(
            api.messageRequests((r) => r.firstUserText.includes(`STEP1_${w}]]`)).at(-1)?.messages ?? [],
          );
          expect(sent, `round ${round} ${w}`).toEqual([`STEP1_${w}`, `${w}\nSTEP2_${w}`]);
          expect(v.worktree?.changed_files).toEqual(['same.txt']);
          expect(gitIn(repo, 'show', `${v.worktree!.branch}:same.txt`)).toBe(w);
        }
        expect(gitIn(repo, 'status', '--porcelain')).toBe('');
        expect(gitIn(repo, 'rev-parse', 'HEAD')).toBe(head);
      }
    },
    ROUNDS * 120_000,
  );
});

describe('allowedRoots and gitfiles (issue 19 item 5)', () => {
  it('a folder inside the roots whose .git file names a repository outside them gets no worktree there', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'ct-outside-repo-'));
    newRepo(outside);
    const decoy = join(roots, 'decoy');
    mkdirSync(decoy);
    writeFileSync(join(decoy, '.git'), `gitdir: ${join(outside, '.git')}\n`);
    const before = gitIn(outside, 'for-each-ref');
    const reply = await server.client.callTool({
      name: 'deep_task',
      arguments: { prompt: '[[bash:echo x > x.txt]]', cwd: decoy, isolation: 'worktree', wait_s: 10 },
    });
    const v = reply.isError ? undefined : viewOf(reply);
    const text = v
      ? textOf(
          await server.client.callTool({
            name: 'task_status',
            arguments: { task_id: (v.final ? v : await final(v.task_id)).task_id },
          }),
        )
      : textOf(reply);
    expect(text).toMatch(/git directory of .* is .*outside the allowed roots/);
    expect(gitIn(outside, 'for-each-ref')).toBe(before);
    expect(gitIn(outside, 'worktree', 'list').split('\n')).toHaveLength(1);
  });
});

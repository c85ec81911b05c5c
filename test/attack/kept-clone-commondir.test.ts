import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile, startServer, type StartedServer } from '../support/harness.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { viewOf, type TaskView as View } from '../support/views.js';

// A guard, passing on claude 2.1.330: a .git/commondir in a clone makes git read its config (core.fsmonitor) and hooks
// from wherever it points, and a sandboxed task can write a copy of its .git with a planted fsmonitor into its tree.
// The write to .git/commondir "succeeds" in the sandbox (measured: it lands on a mount of claude's, nothing reaches
// the disk), so the kept clone's path, handed to the user (keep_worktree), runs nothing at the user's `git status`.
// Measured by hand: were commondir written, a plain `git status` there would run the planted command.
let api: ScriptedApi;
let roots: string;
let repo: string;
let server: StartedServer;
const gitIn = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();

beforeAll(async () => {
  api = await startScriptedApi();
  roots = mkdtempSync(join(tmpdir(), 'ct-roots-'));
  repo = join(roots, 'repo');
  mkdirSync(repo);
  gitIn(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README'), 'base\n');
  gitIn(repo, 'add', '.');
  gitIn(repo, '-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qm', 'base');
  const config = configFile({ allowedRoots: [roots], tiers: { comprehensive: { mcpConfig: null } } });
  server = await startServer(api, { cwd: repo, env: { CLAUDE_TIERS_CONFIG: config } });
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

async function final(id: string): Promise<View> {
  let v = viewOf(await server.client.callTool({ name: 'task_status', arguments: { task_id: id } }));
  for (const end = Date.now() + 120_000; !v.final && Date.now() < end;)
    v = viewOf(
      await server.client.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 10, cursor: v.cursor } }),
    );
  return v;
}

describe("a sandboxed task's kept clone", () => {
  it("runs nothing of the task's when the user runs git status in it", async () => {
    const mark = join(mkdtempSync(join(tmpdir(), 'ct-mark-')), 'fsmonitor-ran');
    const plant = [
      'cp -a .git .evilgit 2>/dev/null',
      `printf '[core]\\n\\tfsmonitor = "touch ${mark}; false"\\n' >> .evilgit/config`,
      'echo ../.evilgit > .git/commondir; echo planted=$?',
    ].join('; ');
    const t = viewOf(
      await server.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:${plant}]]`, cwd: repo, tier: 'sandboxed', keep_worktree: true, wait_s: 0 },
      }),
    );
    const v = await final(t.task_id);
    expect(v.state).toBe('succeeded');
    const kept = (v.worktree as { path?: string } | undefined)?.path;
    expect(kept).toBeTruthy();
    expect(existsSync(mark)).toBe(false);
    // What the user does with the path the result gives them.
    try {
      gitIn(kept!, 'status', '--short');
    } catch {
      /* a refusal is fine */
    }
    expect(existsSync(mark)).toBe(false);
  }, 240_000);
});

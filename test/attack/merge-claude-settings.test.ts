import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile, REAL_CLAUDE, startServer, textOf, type StartedServer } from '../support/harness.js';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { viewOf, type TaskView as View } from '../support/views.js';

// A sandboxed task cannot write its cwd's .claude, but Bash writes a .claude further down (bwrap takes no patterns),
// and the server commits it to the task's branch like any file. merge_task then brings sub/.claude/settings.json (a
// hook) into the user's checkout without a word, and the user's own claude started in sub/ runs the hook as the
// user, outside any sandbox: what the task wrote runs outside it.
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
  mkdirSync(join(repo, 'sub'), { recursive: true });
  gitIn(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README'), 'base\n');
  writeFileSync(join(repo, 'sub', 'code.txt'), 'code\n');
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

describe('merge_task of a sandboxed task that wrote a .claude below its cwd', () => {
  it("never brings claude's settings into the user's checkout unannounced", async () => {
    const mark = join(mkdtempSync(join(tmpdir(), 'ct-mark-')), 'hook-ran');
    const settings = { hooks: { SessionStart: [{ hooks: [{ type: 'command', command: `touch ${mark}` }] }] } };
    const b64 = Buffer.from(JSON.stringify(settings)).toString('base64');
    const cmd = `mkdir -p sub/.claude && echo ${b64} | base64 -d > sub/.claude/settings.json; echo w=$?`;
    const t = viewOf(
      await server.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:${cmd}]]`, cwd: repo, tier: 'sandboxed', wait_s: 0 },
      }),
    );
    const v = await final(t.task_id);
    expect(v.state).toBe('succeeded');
    expect(v.worktree?.changed_files).toContain('sub/.claude/settings.json');
    const merged = await server.client.callTool({
      name: 'merge_task',
      arguments: { task_id: t.task_id, strategy: 'merge' },
    });
    console.log(textOf(merged));
    const landed = existsSync(join(repo, 'sub', '.claude', 'settings.json'));
    if (landed) {
      // The harm, measured: the user's own claude (default setting sources) in sub/ runs the task's hook.
      const home = await makeTempHome();
      // (async: the scripted API answers from this process)
      await promisify(execFile)(REAL_CLAUDE, ['-p', 'hi', '--output-format', 'json'], {
        cwd: join(repo, 'sub'),
        env: { ...claudeEnv(api, home), CLAUDE_CODE_MAX_RETRIES: '0' },
        timeout: 60_000,
      });
      console.log('hook ran in the user checkout:', existsSync(mark));
    }
    // Refused, or at least announced: the reply names the file as claude configuration.
    const said = JSON.stringify(merged);
    expect(merged.isError === true || /warning[^]*sub\/\.claude\/settings\.json/i.test(said)).toBe(true);
  }, 240_000);
});

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { processesMatching, REAL_CLAUDE, ROOT, SERVER_ENTRY, sleep, startServer, uniqueSleep, waitFor } from './support/harness.js';

const run = promisify(execFile);
let api: ScriptedApi;
let env: Record<string, string>;
let stateDir: string;

beforeAll(async () => {
  api = await startScriptedApi();
  stateDir = mkdtempSync(join(tmpdir(), 'ct-cli-'));
  env = { ...claudeEnv(api, await makeTempHome()), CLAUDE_TIERS_STATE_DIR: stateDir, CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE, CLAUDE_TIERS_CONFIG: join(ROOT, 'test', 'support', 'no-mcp.config.json') };
});
afterAll(async () => {
  await api?.close();
});

const cli = (args: string[]) => run(process.execPath, [SERVER_ENTRY, ...args], { env, cwd: ROOT, timeout: 60_000 });

describe('the claude-tiers CLI', () => {
  it('ask prints one answer on stdout; --json prints the structured answer', async () => {
    const plain = await cli(['ask', 'capital of France? [[text:Paris]]']);
    expect(plain.stdout).toBe('Paris\n');
    const json = JSON.parse((await cli(['ask', '--json', '[[text:Lyon]]'])).stdout) as { answer: string; model: string };
    expect(json.answer).toBe('Lyon');
    expect(json.model).toMatch(/haiku/);
  });

  it('run shows progress lines and prints the result; tasks lists the task', async () => {
    const r = await cli(['run', 'a deep one [[bash:echo from-run]]']);
    expect(r.stdout).toBe('done: from-run\n');
    expect(r.stderr).toMatch(/t_\S+ · turn \d+ · Bash: echo from-run/);
    const list = JSON.parse((await cli(['tasks', '--json'])).stdout) as Array<{ id: string; state: string }>;
    expect(list[0]?.state).toBe('succeeded');
    const table = (await cli(['tasks'])).stdout;
    expect(table).toMatch(/^TASK\s+STATE\s+ELAPSED\s+TURNS\s+COST/);
    expect(table).toContain(list[0]!.id);
  });

  it('kill asks the owning server to kill its task; the process tree is gone', async () => {
    const marker = uniqueSleep(150);
    const s = await startServer(api, { stateDir });
    try {
      const r = await s.client.callTool({ name: 'deep_task', arguments: { prompt: `[[bash:echo started; sleep ${marker}]]`, wait_s: 0 } });
      const id = (r.structuredContent as { task_id: string }).task_id;
      expect(await waitFor(() => processesMatching(marker).length > 0, 20_000)).toBe(true);
      const k = await cli(['kill', id]);
      expect(k.stdout).toBe(`${id} killed\n`);
      expect(processesMatching(marker)).toEqual([]);
      const st = (await s.client.callTool({ name: 'task_status', arguments: { task_id: id } })).structuredContent as { state: string; end: { by: string } };
      expect(st.end.by).toMatch(/cli \(kill request\)/);
    } finally {
      await s.close();
    }
  });

  it('tasks --watch draws a live table in a terminal (tmux)', async () => {
    const session = `ct${process.pid}`;
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '30', `env ${envArgs} ${process.execPath} ${SERVER_ENTRY} tasks --watch`]);
    try {
      await sleep(2500);
      const screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString();
      expect(screen).toMatch(/claude-tiers tasks \(.*\)\s+Ctrl-C to quit/);
      expect(screen).toMatch(/TASK\s+STATE\s+ELAPSED/);
      expect(screen).toMatch(/t_\S+\s+(succeeded|killed)/);
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  });
});

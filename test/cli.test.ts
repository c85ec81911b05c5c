import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { processesMatching, REAL_CLAUDE, ROOT, runCli, SERVER_ENTRY, startServer, uniqueSleep, waitFor } from './support/harness.js';

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
      // The screen is read once it shows a task row (a busy machine draws late), not at a fixed time.
      const capture = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString();
      const shown = (c: string) => (/TASK\s+STATE\s+ELAPSED/.test(c) && /t_\S+\s+(succeeded|killed)/.test(c) ? c : undefined);
      const screen = (await waitFor(() => shown(capture()), 30_000, 250)) ?? capture();
      expect(screen).toMatch(/claude-tiers tasks \(.*\)\s+Ctrl-C to quit/);
      expect(screen).toMatch(/TASK\s+STATE\s+ELAPSED/);
      expect(screen).toMatch(/t_\S+\s+(succeeded|killed)/);
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  });

  it('refuses unknown flags and bad enum values with one line listing the valid ones, and sends nothing (finding 13)', async () => {
    const before = api.messageRequests().length;
    const cases: Array<[string[], RegExp]> = [
      [['ask', '--modle', 'opus', 'hi'], /^claude-tiers: unknown option --modle for ask; valid options: --tier, --model, --json, .*--config/],
      [['--bogus-flag'], /^claude-tiers: unknown option --bogus-flag for serve; valid options: --http, /],
      [['tasks', '--state', 'bogus'], /^claude-tiers: --state: unknown value "bogus"; valid: queued, running, succeeded, failed, killed, timed_out, lost/],
      [['tasks', '--state', 'running,nope'], /unknown value "nope"/],
      [['ask', '-m', 'opus', 'hi'], /^claude-tiers: unknown option -m; a prompt that starts with "-" goes after --/],
      [['ask', '--json=yes', 'hi'], /--json takes no value/],
      [['run', '--tier'], /--tier needs a value/],
      [['--log-level', 'loud', 'tasks'], /--log-level: unknown value "loud"; valid: fatal, error, warn, info, debug, trace, silent/],
      [['frobnicate'], /unknown command "frobnicate"; commands: serve, ask, run, tasks, kill, compare, doctor/],
      [['tasks', 'extra'], /tasks takes no arguments/],
      [['--max-running', 'four', 'tasks'], /--max-running needs a whole number/],
    ];
    for (const [args, message] of cases) {
      // stdin is closed: had the server started, it would have exited 0 at once.
      const r = await runCli(args, { env, timeoutMs: 15_000 });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    expect(api.messageRequests().length).toBe(before);
    // A prompt that starts with "-" still works after --.
    expect((await runCli(['ask', '--', '--modle opus [[text:dashes ok]]'], { env })).stdout).toBe('dashes ok\n');
  });

  it('every CLI error is one line and an exit code, never a stack trace', async () => {
    const missing = await runCli(['ask', '--config', '/nonexistent/claude-tiers.json', 'hi'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('claude-tiers: config file /nonexistent/claude-tiers.json: does not exist (named by --config)\n');
    const noDir = await runCli(['tasks', '--json'], { env: { ...env, CLAUDE_TIERS_STATE_DIR: '/proc/version/state' } });
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toMatch(/^claude-tiers: state dir \/proc\/version\/state cannot be used \(ENOTDIR.*\); set --state-dir or CLAUDE_TIERS_STATE_DIR to a folder you can write\n$/);
    const badCwd = await runCli(['run', '--root', '/nonexistent-root', '[[text:x]]'], { env });
    expect(badCwd.code).toBe(1);
    expect(badCwd.stderr.trim().split('\n')).toHaveLength(1);
    expect(badCwd.stderr).toMatch(/^claude-tiers: no allowed root exists/);
  });
});

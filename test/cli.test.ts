import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import {
  processesMatching,
  REAL_CLAUDE,
  ROOT,
  runCli,
  SERVER_ENTRY,
  startCli,
  startServer,
  uniqueSleep,
  waitFor,
} from './support/harness.js';

const run = promisify(execFile);
let api: ScriptedApi;
let env: Record<string, string>;
let stateDir: string;

beforeAll(async () => {
  api = await startScriptedApi();
  stateDir = mkdtempSync(join(tmpdir(), 'ct-cli-'));
  env = {
    ...claudeEnv(api, await makeTempHome()),
    CLAUDE_TIERS_STATE_DIR: stateDir,
    CLAUDE_TIERS_CLAUDE_BIN: REAL_CLAUDE,
    CLAUDE_TIERS_CONFIG: join(ROOT, 'test', 'support', 'no-mcp.config.json'),
  };
});
afterAll(async () => {
  await api?.close();
});

const cli = (args: string[]) => run(process.execPath, [SERVER_ENTRY, ...args], { env, cwd: ROOT, timeout: 60_000 });

describe('the claude-tiers CLI', () => {
  it('ask prints one answer on stdout; --json prints the structured answer', async () => {
    const plain = await cli(['ask', 'capital of France? [[text:Paris]]']);
    expect(plain.stdout).toBe('Paris\n');
    const json = JSON.parse((await cli(['ask', '--json', '[[text:Lyon]]'])).stdout) as {
      answer: string;
      model: string;
    };
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
      const r = await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:echo started; sleep ${marker}]]`, wait_s: 0 },
      });
      const id = (r.structuredContent as { task_id: string }).task_id;
      expect(await waitFor(() => processesMatching(marker).length > 0, 20_000)).toBe(true);
      const k = await cli(['kill', id]);
      expect(k.stdout).toBe(`${id} killed\n`);
      expect(processesMatching(marker)).toEqual([]);
      const st = (await s.client.callTool({ name: 'task_status', arguments: { task_id: id } })).structuredContent as {
        state: string;
        end: { by: string };
      };
      expect(st.end.by).toMatch(/cli \(kill request\)/);
    } finally {
      await s.close();
    }
  });

  it('tasks --watch draws a live table in a terminal (tmux)', async () => {
    const session = `ct${process.pid}`;
    const envArgs = Object.entries(env)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    execFileSync('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '160',
      '-y',
      '30',
      `env ${envArgs} ${process.execPath} ${SERVER_ENTRY} tasks --watch`,
    ]);
    try {
      // The screen is read once it shows a task row (a busy machine draws late), not at a fixed time.
      const capture = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString();
      const shown = (c: string) =>
        /TASK\s+STATE\s+ELAPSED/.test(c) && /t_\S+\s+(succeeded|killed)/.test(c) ? c : undefined;
      const screen = (await waitFor(() => shown(capture()), 30_000, 250)) ?? capture();
      expect(screen).toMatch(/claude-tiers tasks \(.*\)\s+Ctrl-C to quit/);
      expect(screen).toMatch(/TASK\s+STATE\s+ELAPSED/);
      expect(screen).toMatch(/t_\S+\s+(succeeded|killed)/);
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  });

  it(
    'refuses unknown flags and bad enum values with one line listing the valid ones, and sends nothing ' +
      '(finding 13)',
    async () => {
      const before = api.messageRequests().length;
      const cases: Array<[string[], RegExp]> = [
        [
          ['ask', '--modle', 'opus', 'hi'],
          /^claude-tiers: unknown option --modle for ask; valid options: --tier, --model, --json, .*--config/,
        ],
        [['--bogus-flag'], /^claude-tiers: unknown option --bogus-flag for serve; valid options: --http, /],
        [
          ['tasks', '--state', 'bogus'],
          new RegExp(
            String.raw`^claude-tiers: --state: unknown value "bogus"; ` +
              String.raw`valid: queued, running, needs_input, succeeded, failed, killed, timed_out, lost`,
          ),
        ],
        [['tasks', '--state', 'running,nope'], /unknown value "nope"/],
        [['ask', '-m', 'opus', 'hi'], /^claude-tiers: unknown option -m; a prompt that starts with "-" goes after --/],
        [['ask', '--json=yes', 'hi'], /--json takes no value/],
        [['run', '--tier'], /--tier needs a value/],
        [
          ['--log-level', 'loud', 'tasks'],
          /--log-level: unknown value "loud"; valid: fatal, error, warn, info, debug, trace, silent/,
        ],
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
    },
  );

  it('every CLI error is one line and an exit code, never a stack trace', async () => {
    const missing = await runCli(['ask', '--config', '/nonexistent/claude-tiers.json', 'hi'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      'claude-tiers: config file /nonexistent/claude-tiers.json: does not exist (named by --config)\n',
    );
    const noDir = await runCli(['tasks', '--json'], { env: { ...env, CLAUDE_TIERS_STATE_DIR: '/proc/version/state' } });
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toMatch(
      new RegExp(
        String.raw`^claude-tiers: state dir \/proc\/version\/state cannot be used \(ENOTDIR.*\); ` +
          String.raw`set --state-dir or CLAUDE_TIERS_STATE_DIR to a folder you can write\n$`,
      ),
    );
    const badCwd = await runCli(['run', '--root', '/nonexistent-root', '[[text:x]]'], { env });
    expect(badCwd.code).toBe(1);
    expect(badCwd.stderr.trim().split('\n')).toHaveLength(1);
    expect(badCwd.stderr).toMatch(/^claude-tiers: no allowed root exists/);
  });
});

describe('conventions (issue 21, item 3)', () => {
  it('--help, help and --version print on stdout, nothing on stderr', async () => {
    for (const args of [['--help'], ['help'], ['-h']]) {
      const r = await runCli(args, { env });
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(
        /^claude-tiers: Claude Code as tiered MCP tools\n[\s\S]*claude-tiers answer TASK_ID allow\|deny/,
      );
      expect(r.stderr).toBe('');
    }
    for (const args of [['--version'], ['version'], ['-v']]) {
      const r = await runCli(args, { env });
      expect(r.stdout, args.join(' ')).toMatch(/^claude-tiers \d+\.\d+\.\d+\n$/);
      expect(r.stderr).toBe('');
    }
  });

  it(
    'compare with a bad command line (unknown tier, missing prompts file, no --tiers) exits 2 with one line, ' +
      'before any claude starts',
    async () => {
      const before = api.messageRequests().length;
      const prompts = join(mkdtempSync(join(tmpdir(), 'ct-cmp-')), 'p.jsonl');
      writeFileSync(prompts, '{"prompt": "x"}\n');
      const cases: Array<[string[], RegExp]> = [
        [['compare', '--tiers', 'bogus', '--prompts', prompts], /--tiers: give exactly two tiers/],
        [['compare', '--tiers', 'speed,bogus', '--prompts', prompts], /--tiers: unknown tier "bogus"/],
        [
          ['compare', '--tiers', 'speed,comprehensive', '--prompts', '/nonexistent/prompts.jsonl'],
          /--prompts: cannot read \/nonexistent\/prompts.jsonl \(ENOENT\)/,
        ],
        [['compare', '--prompts', prompts], /--tiers is required/],
      ];
      for (const [args, message] of cases) {
        const r = await runCli(args, { env, timeoutMs: 15_000 });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stdout).toBe('');
      }
      expect(api.messageRequests().length).toBe(before);
    },
  );

  it(
    'run: a task that fails is one line on stderr naming the task and the reason, nothing on stdout, exit ' + '1',
    async () => {
      const r = await runCli(['run', '[[error:400]]'], { env, timeoutMs: 60_000 });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('claude-tiers: '));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^claude-tiers: task t_\S+ failed: Claude API error 400/);
    },
  );
});

describe('permission requests from the CLI (issue 21, item 4)', () => {
  let permEnv: Record<string, string>;
  beforeAll(() => {
    const config = join(mkdtempSync(join(tmpdir(), 'ct-cli-perm-')), 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        tiers: { comprehensive: { mcpConfig: null, allowedTools: ['Read'], permissionTimeoutS: 120 } },
      }),
    );
    permEnv = {
      ...env,
      CLAUDE_TIERS_CONFIG: config,
      CLAUDE_TIERS_STATE_DIR: mkdtempSync(join(tmpdir(), 'ct-cli-perm-state-')),
    };
  });
  const asking = (tag: string) => `[[bash:curl -s http://127.0.0.1:9/; echo ${tag}]]`;
  const toolResultsWith = (text: string) =>
    api.requests.filter(
      (r) => JSON.stringify(r.messages).includes('tool_result') && JSON.stringify(r.messages).includes(text),
    );
  const listed = async (state: string) =>
    (
      JSON.parse((await runCli(['tasks', '--state', state, '--json'], { env: permEnv })).stdout) as Array<{
        id: string;
        state: string;
      }>
    ).map((t) => t.id);

  it(
    'tasks --state needs_input and --state running show a task waiting for permission; `answer` from another ' +
      'process answers it',
    async () => {
      const s = await startServer(api, {
        stateDir: permEnv.CLAUDE_TIERS_STATE_DIR,
        env: { CLAUDE_TIERS_CONFIG: permEnv.CLAUDE_TIERS_CONFIG! },
      });
      try {
        const reason = `NOT_NOW_${Date.now().toString(36)}`;
        const id = (
          (await s.client.callTool({ name: 'deep_task', arguments: { prompt: asking('cli-answer'), wait_s: 0 } }))
            .structuredContent as { task_id: string }
        ).task_id;
        const state = async () =>
          (
            (await s.client.callTool({ name: 'task_status', arguments: { task_id: id } })).structuredContent as {
              state: string;
              final: boolean;
            }
          ).state;
        expect(await waitFor(async () => (await state()) === 'needs_input', 40_000)).toBe(true);
        expect(await listed('needs_input')).toContain(id);
        expect(await listed('running')).toContain(id);
        expect(await listed('succeeded')).not.toContain(id);
        // An answer pinned to another request answers nothing (a newer request is never answered unseen).
        const stale = await runCli(['answer', id, 'allow', '--request', 'p_notthisone'], {
          env: permEnv,
          timeoutMs: 60_000,
        });
        expect(stale.code).toBe(1);
        expect(stale.stderr).toMatch(/waits on request p_\S+ \(Bash\), not p_notthisone; nothing was answered/);
        expect(await state()).toBe('needs_input');
        const answered = await runCli(['answer', id, 'deny', '--message', reason], { env: permEnv, timeoutMs: 60_000 });
        expect(answered.code, answered.stderr).toBe(0);
        expect(answered.stdout).toMatch(
          new RegExp(`^${id} denied Bash \\{"command":"curl[^\n]*; now (running|succeeded)\n$`),
        );
        expect(await waitFor(async () => (await state()) === 'succeeded', 40_000)).toBe(true);
        expect(toolResultsWith(reason).length).toBeGreaterThan(0);
        // Nothing open any more: the same answer again is one line and exit 1.
        const again = await runCli(['answer', id, 'allow'], { env: permEnv });
        expect(again.code).toBe(1);
        expect(again.stderr).toBe(
          `claude-tiers: task ${id} waits on no permission request (state succeeded); see claude-tiers tasks\n`,
        );
      } finally {
        await s.close();
      }
    },
    120_000,
  );

  it(
    'run without a terminal says how to answer; `answer ... allow` from another process lets the command ' + 'run',
    async () => {
      const { proc, closed: exited, stdout, stderr } = startCli(['run', asking('piped-allow')], { env: permEnv });
      try {
        expect(
          await waitFor(
            () => /waits for permission to run Bash; answer with: claude-tiers answer t_\S+ allow\|deny/.test(stderr()),
            60_000,
          ),
        ).toBe(true);
        const id = /(t_\S+) waits for permission/.exec(stderr())![1]!;
        const answered = await runCli(['answer', id, 'allow'], { env: permEnv, timeoutMs: 60_000 });
        expect(answered.code, answered.stderr).toBe(0);
        expect(await exited).toBe(0);
        expect(stdout()).toContain('piped-allow');
      } finally {
        proc.kill('SIGKILL');
      }
    },
    120_000,
  );

  it('run in a terminal (tmux) asks y/n and a reason; the answer reaches claude', async () => {
    const session = `ctp${process.pid}`;
    const reason = `TOLD_${Date.now().toString(36)}`;
    const envArgs = Object.entries(permEnv)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    execFileSync('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '200',
      '-y',
      '40',
      `env ${envArgs} ${process.execPath} ${SERVER_ENTRY} run ${JSON.stringify(asking('tty'))}; echo EXIT=$?; sleep 30`,
    ]);
    const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString();
    try {
      expect(await waitFor(() => screen().includes('Allow? [y/n]'), 60_000)).toBe(true);
      expect(screen()).toMatch(
        /t_\S+ asks for permission: Bash \{"command":"curl -s http:\/\/127\.0\.0\.1:9\/; echo tty"/,
      );
      execFileSync('tmux', ['send-keys', '-t', session, 'n', 'Enter']);
      expect(await waitFor(() => screen().includes('Why?'), 20_000)).toBe(true);
      execFileSync('tmux', ['send-keys', '-t', session, reason, 'Enter']);
      expect(await waitFor(() => /EXIT=\d/.test(screen()), 60_000)).toBe(true);
      expect(screen()).toMatch(/EXIT=0/);
      expect(toolResultsWith(reason).length).toBeGreaterThan(0);
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  }, 150_000);
});

describe('npm start in a terminal (issue 21, item 2)', () => {
  it('says on stderr that it waits for an MCP client on stdin and that Ctrl-C stops it; Ctrl-C does', async () => {
    const session = `cts${process.pid}`;
    const envArgs = Object.entries(env)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    execFileSync('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '250',
      '-y',
      '40',
      `env ${envArgs} CLAUDE_TIERS_LOG_LEVEL=warn ${process.execPath} ${SERVER_ENTRY}; echo EXIT=$?; sleep 30`,
    ]);
    const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-J', '-t', session]).toString();
    try {
      expect(await waitFor(() => screen().includes('waiting for an MCP client on stdin'), 20_000)).toBe(true);
      expect(screen()).toMatch(/Ctrl-C stops it/);
      execFileSync('tmux', ['send-keys', '-t', session, 'C-c']);
      expect(await waitFor(() => /EXIT=\d+/.test(screen()), 20_000)).toBe(true);
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  }, 60_000);

  it('a server whose stdin closes while it starts never logs "ready on stdio" after "shutting down"', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runCli([], { env: { ...env, CLAUDE_TIERS_LOG_LEVEL: 'info' } });
      const down = r.stderr.indexOf('shutting down');
      expect(down, r.stderr).toBeGreaterThanOrEqual(0);
      expect(r.stderr.slice(down)).not.toMatch(/ready on stdio/);
    }
  });
});

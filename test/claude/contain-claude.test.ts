import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { containedCommand, innerPid, probeContainment, type Containment } from '../../src/claude/contain.js';
import { isAlive, killTreeSync, readProcStat, terminateTree } from '../../src/claude/terminate/index.js';
import { REAL_CLAUDE, ROOT, uniqueSleep } from '../support/harness.js';
import { createReaper, sleepers, startProcess, until, type Started } from '../support/procs.js';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';

// The real claude through the containment wrapper: stdio, the stream-json protocol and signals must all pass through.
const containment = probeContainment();
const STREAM = [
  '-p',
  '--input-format=stream-json',
  '--output-format=stream-json',
  '--verbose',
  '--model=haiku',
  '--no-session-persistence',
  '--strict-mcp-config',
];
const reaper = createReaper();
let api: ScriptedApi;
let home: string;

beforeAll(async () => {
  api = await startScriptedApi();
  home = await makeTempHome();
});
afterEach(() => reaper.reap());
afterAll(() => api?.close());

function claude(args: string[], c: Containment = containment): Started {
  const cmd = containedCommand(c, REAL_CLAUDE, args);
  return reaper.track(
    startProcess(cmd.file, cmd.args, { env: claudeEnv(api, home, { CLAUDE_CODE_MAX_RETRIES: '0' }), cwd: home }),
  );
}

const user = (content: string) =>
  `${JSON.stringify({ type: 'user', message: { role: 'user', content }, parent_tool_use_id: null, session_id: '' })}\n`;
const event = (type: string, subtype?: string) => (line: string) =>
  line.includes(`"type":"${type}"`) && (!subtype || line.includes(`"subtype":"${subtype}"`));
const requestsWith = (tag: string) => api.messageRequests((r) => r.firstUserText.includes(tag)).length;
const PLAIN: Containment = { kind: 'none', why: 'control' };

// A Bash step that double-forks two sleeps (issue 11, finding 1), then waits; its sleep arguments are watched for
// survivors.
function escapingStep(): { prompt: string; args: string[] } {
  const args = [uniqueSleep(777), uniqueSleep(777)];
  reaper.watch(...args);
  return {
    prompt:
      `[[bash:echo x; (setsid sleep ${args[0]} &); setsid -f sleep ${args[1]}; echo started; sleep ` +
      `30]] ${args[0]}`,
    args,
  };
}

const hangingRequest = (tag: string) =>
  until(() => api.messageRequests((r) => r.firstUserText.includes(tag)).length > 0, 20_000);

describe.skipIf(containment.kind !== 'pidns')('claude through the containment wrapper', () => {
  it('(e) claude --version runs contained and its output arrives', async () => {
    const run = claude(['--version']);
    expect(await run.line((l) => l.length > 0)).toMatch(/^\d+\.\d+\.\d+ \(Claude Code\)$/);
    expect(await run.exited).toMatchObject({ code: 0, signal: null });
  });

  it(
    'stream-json both ways: a prompt gets system/init and a result; closing stdin ends claude and the ' + 'wrapper',
    async () => {
      const run = claude(STREAM);
      run.child.stdin!.write(user('hello'));
      expect(JSON.parse(await run.line(event('system', 'init')))).toMatchObject({
        claude_code_version: expect.any(String),
      });
      expect(JSON.parse(await run.line(event('result')))).toMatchObject({
        subtype: 'success',
        is_error: false,
        result: 'ok: hello',
      });
      // Claude is pid 1 of its namespace, in the wrapper's process group.
      const inner = innerPid(containment, run.pid)!;
      expect(readProcStat(inner)).toMatchObject({ ppid: run.pid, pgid: run.pid });
      run.child.stdin!.end();
      expect(await run.exited).toMatchObject({ code: 0, signal: null });
      expect(isAlive(inner)).toBe(false);
    },
  );

  it(
    'an interrupt on stdin is answered; SIGINT and SIGTERM sent to the spawned pid alone never reach claude ' +
      '(unshare blocks them); SIGTERM to the group ends it with 143',
    async () => {
      const run = claude(STREAM);
      run.child.stdin!.write(user('wait [[hang]] c1'));
      expect(await hangingRequest('c1')).toBe(true);
      run.child.stdin!.write(
        `${JSON.stringify({ type: 'control_request', request_id: 'r1', request: { subtype: 'interrupt' } })}\n`,
      );
      expect(await run.line((l) => event('control_response')(l) && l.includes('"r1"'))).toBeTruthy();
      expect(JSON.parse(await run.line(event('result')))).toMatchObject({
        terminal_reason: expect.stringMatching(/^aborted/),
      });
      process.kill(run.pid, 'SIGINT');
      process.kill(run.pid, 'SIGTERM');
      await delay(1000);
      expect([run.hasExited(), isAlive(innerPid(containment, run.pid)!)]).toEqual([false, true]);
      process.kill(-run.pid, 'SIGTERM');
      expect(await run.exited).toMatchObject({ code: 143, signal: null });
    },
  );

  it(
    '-p json mode: SIGINT to the pid alone does not interrupt a hung turn; SIGINT to the group ends it with a ' +
      'result, exit 0',
    async () => {
      const run = claude([
        '-p',
        '--output-format=json',
        '--model=haiku',
        '--no-session-persistence',
        '--strict-mcp-config',
      ]);
      run.child.stdin!.end('wait [[hang]] j1');
      expect(await hangingRequest('j1')).toBe(true);
      process.kill(run.pid, 'SIGINT');
      await delay(1000);
      expect(run.hasExited()).toBe(false);
      process.kill(-run.pid, 'SIGINT');
      const exit = await Promise.race([run.exited, delay(10_000, 'still running')]);
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(JSON.parse(await run.line(event('result')))).toMatchObject({ type: 'result' });
    },
  );

  // kill_task today: interrupt, close stdin, SIGTERM the group, SIGKILL every noted group and pid.
  async function killTask(c: Containment): Promise<string[]> {
    const { prompt, args } = escapingStep();
    const run = claude([...STREAM, '--allowedTools=Bash'], c);
    run.child.stdin!.write(user(prompt));
    expect(await until(() => args.every((a) => sleepers(a).length === 1), 20_000)).toBe(true);
    const interrupt = () =>
      void run.child.stdin!.write(
        `${JSON.stringify({ type: 'control_request', request_id: 'k1', request: { subtype: 'interrupt' } })}\n`,
      );
    const report = await terminateTree({
      pid: run.pid,
      exited: run.exited,
      interrupt,
      closeStdin: () => run.child.stdin!.end(),
      interruptWaitMs: 1000,
      graceMs: 1000,
    });
    expect(report.survivors).toEqual([]);
    await delay(300);
    return args;
  }

  it(
    'kill_task (terminateTree on the spawned pid) leaves nothing of a double-forking Bash step when ' + 'contained',
    async () => {
      expect((await killTask(containment)).flatMap(sleepers)).toEqual([]);
    },
  );

  it('(control) the same kill of an uncontained claude leaves both double-forked sleeps running', async () => {
    expect((await killTask(PLAIN)).map((a) => sleepers(a).length)).toEqual([1, 1]);
  });

  // The server is SIGKILLed while claude loops on a Bash step (issue 11, finding 2).
  async function killServer(
    mode: 'contained' | 'plain',
  ): Promise<{ args: string[]; after: () => number; claudePid: number }> {
    const { args } = escapingStep();
    const tag = `loop-${mode}-${args[0]}`;
    const line = user(
      `[[repeat-bash:echo x; (setsid sleep ${args[0]} &); setsid -f sleep ${args[1]}; echo again]] ${tag}`,
    );
    const env = { ...claudeEnv(api, home, { CLAUDE_CODE_MAX_RETRIES: '0' }), CONTAIN_TEST_STDIN: line };
    const module = pathToFileURL(join(ROOT, 'dist', 'src', 'claude', 'contain.js')).href;
    const parent = reaper.track(
      startProcess(
        process.execPath,
        [
          join(ROOT, 'test', 'claude', 'fixtures', 'contained-parent.mjs'),
          module,
          mode,
          REAL_CLAUDE,
          ...STREAM,
          '--allowedTools=Bash',
        ],
        { env, cwd: home },
      ),
    );
    const { pid } = JSON.parse(await parent.line((l) => l.startsWith('{'))) as { pid: number };
    expect(await until(() => requestsWith(tag) >= 3, 20_000)).toBe(true);
    process.kill(parent.pid, 'SIGKILL');
    await parent.exited;
    await delay(2000);
    const at2s = requestsWith(tag);
    await delay(2000);
    return { args, after: () => requestsWith(tag) - at2s, claudePid: pid };
  }

  it(
    'a SIGKILLed server: its contained claude makes no API request after 2 s and the double forks are ' + 'gone',
    async () => {
      const r = await killServer('contained');
      expect(r.after()).toBe(0);
      expect(r.args.flatMap(sleepers)).toEqual([]);
    },
  );

  it('(control) a SIGKILLed server: an uncontained claude keeps calling the API', async () => {
    const r = await killServer('plain');
    try {
      expect(r.after()).toBeGreaterThan(0);
    } finally {
      killTreeSync(r.claudePid); // its Bash step too, which may still be forking: the reaper then finds every sleep
      await delay(500);
    }
  });
});

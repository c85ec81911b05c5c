import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REAL_CLAUDE } from './harness.js';
import { claudeEnv, makeTempHome, startScriptedApi, type ScriptedApi } from './scripted-api.js';
import { decideReply, findMarkers } from './scripted-api-scenario.js';

let api: ScriptedApi;
let home: string;
beforeAll(async () => {
  api = await startScriptedApi();
  home = await makeTempHome();
});
afterAll(async () => {
  await api?.close();
});

type Result = { type: string; is_error: boolean; result?: string; api_error_status?: number | null; num_turns: number };

// Runs the real claude once against the scripted API, prompt on stdin, and returns its json result (if any).
async function claudeJson(prompt: string, opts: { timeoutMs?: number; extraArgs?: string[] } = {}) {
  const started = Date.now();
  const run = await execa(
    REAL_CLAUDE,
    [
      '-p',
      '--output-format=json',
      '--model=haiku',
      '--strict-mcp-config',
      '--no-session-persistence',
      '--allowedTools=Bash',
      ...(opts.extraArgs ?? []),
    ],
    {
      env: claudeEnv(api, home, { CLAUDE_CODE_MAX_RETRIES: '0' }),
      extendEnv: false,
      input: prompt,
      reject: false,
      timeout: opts.timeoutMs ?? 30_000,
      cwd: home,
    },
  );
  let result: Result | undefined;
  try {
    result = JSON.parse(run.stdout) as Result;
  } catch {
    /* no result */
  }
  return { run, result, ms: Date.now() - started };
}

describe('scenario decisions', () => {
  it('reads markers in order, with arguments containing colons and JSON', () => {
    expect(findMarkers('a [[bash:echo a:b]] b [[tool:Read:{"file_path":"/x"}]] [[hang]]')).toEqual([
      { name: 'bash', arg: 'echo a:b' },
      { name: 'tool', arg: 'Read:{"file_path":"/x"}' },
      { name: 'hang', arg: '' },
    ]);
  });

  it(
    'steps through tool turns by the number of tool results, and never sends a tool_use to a request without ' +
      'tools',
    () => {
      const first = { role: 'user', content: 'go [[bash:echo 1]][[tool:Read:{"file_path":"/etc/hostname"}]]' };
      const tools = [{ name: 'Bash' }];
      expect(decideReply({ messages: [first], tools })).toMatchObject({
        kind: 'tool',
        name: 'Bash',
        input: { command: 'echo 1' },
      });
      const afterOne = [
        first,
        { role: 'assistant', content: [] },
        { role: 'user', content: [{ type: 'tool_result', content: 'one' }] },
      ];
      expect(decideReply({ messages: afterOne, tools })).toMatchObject({
        kind: 'tool',
        name: 'Read',
        input: { file_path: '/etc/hostname' },
      });
      const afterTwo = [
        ...afterOne,
        { role: 'assistant', content: [] },
        { role: 'user', content: [{ type: 'tool_result', content: 'two' }] },
      ];
      expect(decideReply({ messages: afterTwo, tools })).toMatchObject({ kind: 'text', text: 'done: two' });
      expect(decideReply({ messages: [first] })).toMatchObject({ kind: 'text' });
    },
  );

  it('applies error-model only to the matching model', () => {
    const messages = [{ role: 'user', content: 'x [[error-model:opus:529]]' }];
    expect(decideReply({ model: 'claude-opus-5-5', messages })).toEqual({ kind: 'error', status: 529 });
    expect(decideReply({ model: 'claude-sonnet-5', messages })).toMatchObject({ kind: 'text' });
  });
});

describe('the real claude against the scripted API', () => {
  it('plain text, chunked and delayed, arrives whole', async () => {
    const { result } = await claudeJson('[[len:120]][[chunk:7]][[delay:5]]');
    expect(result?.is_error).toBe(false);
    expect(result?.result).toBe('abcdefghij'.repeat(12));
  });

  it('a Bash tool_use really runs, and the final text carries its output', async () => {
    api.reset();
    const { result } = await claudeJson('[[bash:echo scripted_$((40+2))]]');
    expect(result?.result).toBe('done: scripted_42');
    expect(result?.num_turns).toBe(2);
    const second = api.messageRequests().find((r) => JSON.stringify(r.messages).includes('tool_result'));
    expect(JSON.stringify(second?.messages)).toContain('scripted_42');
  });

  it('several tool turns run in order', async () => {
    const { result } = await claudeJson('[[bash:echo one]][[bash:echo two]][[bash:echo three]]');
    expect(result?.result).toBe('done: three');
    expect(result?.num_turns).toBe(4);
  });

  it.each([400, 429, 500])('HTTP %i comes back as is_error with api_error_status', async (status) => {
    const { result, run } = await claudeJson(`[[error:${status}]]`);
    expect(run.exitCode).toBe(1);
    expect(result?.is_error).toBe(true);
    expect(result?.api_error_status).toBe(status);
  });

  it('a hang gets no answer until the process is stopped', async () => {
    const { result, run } = await claudeJson('[[hang]]', { timeoutMs: 3000 });
    expect(run.timedOut).toBe(true);
    expect(result).toBeUndefined();
  });

  it('a stall (a message that stops mid-way) gets no answer either', async () => {
    const { result, run } = await claudeJson('[[stall]]', { timeoutMs: 3000 });
    expect(run.timedOut).toBe(true);
    expect(result).toBeUndefined();
  });

  it.each(['cut', 'malformed'])('a %s stream ends in an error result, not a hang', async (kind) => {
    const { result, run } = await claudeJson(`[[${kind}]]`, { timeoutMs: 20_000 });
    expect(run.timedOut).toBe(false);
    expect(result?.is_error).toBe(true);
  });
});

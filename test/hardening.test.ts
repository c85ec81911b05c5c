import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import {
  claudeChildren,
  configFile,
  isAlive,
  processesMatching,
  ROOT,
  startServer,
  textOf,
  waitFor,
  type StartedServer,
} from './support/harness.js';
import { viewOf, type TaskView as View } from './support/views.js';

let api: ScriptedApi;
let s: StartedServer;
const FAKE = join(ROOT, 'test', 'support', 'fake-claude.mjs');

async function finalView(server: StartedServer, id: string): Promise<View> {
  let v = viewOf(await server.client.callTool({ name: 'task_status', arguments: { task_id: id } }));
  const end = Date.now() + 60_000;
  while (!v.final && Date.now() < end)
    v = viewOf(
      await server.client.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 10, cursor: v.cursor } }),
    );
  return v;
}

beforeAll(async () => {
  api = await startScriptedApi();
  s = await startServer(api, {
    env: {
      CLAUDE_TIERS_CONFIG: configFile({
        tiers: { comprehensive: { mcpConfig: null } },
        limits: { breakerThreshold: 2, breakerCooldownS: 30, ratePerMinute: 0 },
      }),
    },
  });
});
afterAll(async () => {
  await s?.close();
  await api?.close();
});

describe('monitors', () => {
  it('stops a loop with the reason in task_status', async () => {
    const r = await s.client.callTool({
      name: 'deep_task',
      arguments: { prompt: '[[repeat-bash:echo same]]', wait_s: 0 },
    });
    const v = await finalView(s, viewOf(r).task_id);
    expect(v.state).toBe('failed');
    expect(v.end?.reason).toBe('loop');
    expect(v.end?.message).toBe('stopped: loop - Bash "echo same" called 5 times in a row with the same input');
  });

  it('stops a task over its output-token cap and reports the spend', async () => {
    const r = await s.client.callTool({
      name: 'deep_task',
      arguments: { prompt: '[[usage:10,500]][[bash:echo a]][[bash:echo b]]', max_output_tokens: 100, wait_s: 0 },
    });
    const v = await finalView(s, viewOf(r).task_id);
    expect(v.state).toBe('failed');
    expect(v.end?.reason).toBe('budget');
    expect(v.end?.message).toMatch(/500 output tokens, over the cap of 100; \$\d+\.\d{4} spent/);
  });

  it('flags a refusal on the result and records tokens per second', async () => {
    const r = await s.client.callTool({
      name: 'deep_task',
      arguments: { prompt: "[[text:I'm sorry, but I can't help with that request.]]", wait_s: 30 },
    });
    const v = viewOf(r);
    expect(v.state).toBe('succeeded');
    expect(v.refusal).toBe(true);
    expect(textOf(r)).toMatch(/reads as a refusal/);
    expect(typeof v.tokens_per_second).toBe('number');
  });
});

describe('resource caps', () => {
  it('stops a task whose processes use more memory than the tier allows', async () => {
    const t = await startServer(api, {
      env: { CLAUDE_TIERS_CONFIG: configFile({ tiers: { comprehensive: { mcpConfig: null, maxMemoryMb: 64 } } }) },
    });
    try {
      const r = await t.client.callTool({
        name: 'deep_task',
        arguments: { prompt: '[[bash:echo started; sleep 20]]', wait_s: 0 },
      });
      const v = await finalView(t, viewOf(r).task_id);
      expect(v.state).toBe('failed');
      expect(v.end?.reason).toBe('memory');
      expect(v.end?.message).toMatch(/stopped: memory - the task's processes use \d+ MB, over the cap of 64 MB/);
      expect(await waitFor(() => claudeChildren(t.pid).length === 0, 10_000)).toBe(true);
    } finally {
      await t.close();
    }
  });
});

describe('circuit breaker', () => {
  it(
    'after the breaker opens on 529s, a call fails without starting claude, with the cooldown in its ' + 'message',
    async () => {
      for (let i = 0; i < 2; i++) {
        const r = await s.client.callTool({
          name: 'quick_answer',
          arguments: { prompt: `overloaded ${i} [[error:529]]` },
        });
        expect(textOf(r)).toMatch(/529/);
      }
      const r = await s.client.callTool({ name: 'quick_answer', arguments: { prompt: '[[text:never asked]]' } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/circuit open for speed:haiku: 2 upstream failures in a row .*next probe in \d+ s/);
      // The last error is quoted whole or cut at a word, never mid-phrase ("(the API is );").
      expect(textOf(r)).not.toMatch(/\(the API is \)/);
      expect(textOf(r)).toMatch(/\(last: Claude API error 529: [^()]*\); calls fail fast/);
      // Failing fast is failing before claude: the prompt never reached the API (a clock is no test on a busy machine).
      expect(api.messageRequests((q) => q.firstUserText.includes('never asked'))).toEqual([]);
      const stats = (await s.client.callTool({ name: 'server_stats', arguments: {} })).structuredContent as {
        circuits: Record<string, { state: string }>;
      };
      expect(stats.circuits['speed:haiku']?.state).toBe('open');
      // other models are not affected
      const other = await s.client.callTool({
        name: 'quick_answer',
        arguments: { prompt: '[[text:sonnet fine]]', model: 'sonnet' },
      });
      expect(textOf(other)).toBe('sonnet fine');
    },
  );
});

describe('rate limits, audit log', () => {
  it('refuses a caller over its rate with the time to retry', async () => {
    const t = await startServer(api, {
      env: { CLAUDE_TIERS_CONFIG: configFile({ limits: { ratePerMinute: 2, rateBurst: 2 } }) },
    });
    try {
      for (let i = 0; i < 2; i++)
        expect(
          (await t.client.callTool({ name: 'quick_answer', arguments: { prompt: '[[text:ok]]' } })).isError,
        ).toBeFalsy();
      const r = await t.client.callTool({ name: 'quick_answer', arguments: { prompt: '[[text:ok]]' } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/rate limited: .*retry in \d+(\.\d)? s/);
      expect((await t.client.callTool({ name: 'list_tasks', arguments: {} })).isError).toBeFalsy();
    } finally {
      await t.close();
    }
  });

  it('writes task lifecycle and tool calls to the audit log with prompts hashed', async () => {
    const r = await s.client.callTool({
      name: 'deep_task',
      arguments: { prompt: 'SECRET-PROMPT-TEXT [[bash:echo audited]]', wait_s: 30 },
    });
    expect(viewOf(r).state).toBe('succeeded');
    const lines = readFileSync(join(s.stateDir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = lines.filter((l) => l.task_id === viewOf(r).task_id);
    expect(mine.map((l) => l.event)).toEqual(
      expect.arrayContaining(['task_submitted', 'task_started', 'tool_call', 'task_ended']),
    );
    expect(mine.find((l) => l.event === 'tool_call')).toMatchObject({ tool: 'Bash', input: 'echo audited' });
    expect(String(mine.find((l) => l.event === 'task_submitted')?.prompt)).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(readFileSync(join(s.stateDir, 'audit.jsonl'), 'utf8')).not.toContain('SECRET-PROMPT-TEXT');
  });
});

describe('faults from a misbehaving claude (fake binary)', () => {
  const withFake = async (mode: string, extra: Record<string, string> = {}) =>
    startServer(api, { env: { CLAUDE_TIERS_CLAUDE_BIN: FAKE, FAKE_CLAUDE_MODE: mode, ...extra } });

  it('garbage lines and unknown events are skipped; the task still succeeds and the server keeps serving', async () => {
    const f = await withFake('garbage');
    try {
      const v = viewOf(await f.client.callTool({ name: 'deep_task', arguments: { prompt: 'x', wait_s: 20 } }));
      expect(v.state).toBe('succeeded');
      expect(v.result?.text).toBe('survived the garbage');
      expect(v.events.some((e) => /unreadable output: this is not json/.test(e))).toBe(true);
      expect(f.stderr()).toMatch(/claude printed an unreadable line/);
    } finally {
      await f.close();
    }
  });

  it('a 50 MB line is skipped without holding it in memory', async () => {
    const f = await withFake('huge-line');
    try {
      const v = viewOf(await f.client.callTool({ name: 'deep_task', arguments: { prompt: 'x', wait_s: 30 } }));
      expect(v.state).toBe('succeeded');
      expect(v.events.some((e) => /oversized output line \(5\d{7} bytes\)/.test(e))).toBe(true);
      const stats = (await f.client.callTool({ name: 'server_stats', arguments: {} })).structuredContent as {
        memory_mb: { rss: number };
      };
      expect(stats.memory_mb.rss).toBeLessThan(200);
    } finally {
      await f.close();
    }
  });

  it('claude killed from outside mid-task: failed, partial output kept', async () => {
    const f = await withFake('crash');
    try {
      const started = viewOf(await f.client.callTool({ name: 'deep_task', arguments: { prompt: 'x', wait_s: 0 } }));
      await waitFor(
        async () =>
          viewOf(await f.client.callTool({ name: 'task_status', arguments: { task_id: started.task_id } }))
            .last_text !== '',
        10_000,
      );
      const crashing = (pid: number) => {
        try {
          return readFileSync(`/proc/${pid}/environ`, 'utf8').includes('FAKE_CLAUDE_MODE=crash');
        } catch {
          return false; // gone meanwhile
        }
      };
      for (const p of processesMatching('fake-claude.mjs')) if (crashing(p.pid)) process.kill(p.pid, 'SIGKILL');
      let v = viewOf(
        await f.client.callTool({ name: 'task_status', arguments: { task_id: started.task_id, wait_s: 10 } }),
      );
      while (!v.final)
        v = viewOf(
          await f.client.callTool({
            name: 'task_status',
            arguments: { task_id: started.task_id, wait_s: 10, cursor: v.cursor },
          }),
        );
      expect(v.state).toBe('failed');
      expect(v.end?.reason).toBe('crashed');
      expect(v.end?.message).toMatch(/killed by SIGKILL without a result/);
      expect(v.last_text).toBe('partial work before the crash');
    } finally {
      await f.close();
    }
  });

  it('a claude that ignores SIGTERM is still killed', async () => {
    const f = await withFake('ignore-term');
    try {
      const r = await f.client.callTool({ name: 'deep_task', arguments: { prompt: 'x', wait_s: 0 } });
      expect(await waitFor(() => claudeChildren(f.pid).length === 1 || true, 1000)).toBe(true);
      const pids = await waitFor(() => {
        const found = claudeChildren(f.pid);
        return found.length ? found : undefined;
      }, 20_000);
      const k = viewOf(await f.client.callTool({ name: 'kill_task', arguments: { task_id: viewOf(r).task_id } }));
      expect(k.state).toBe('killed');
      for (const pid of pids ?? []) expect(isAlive(pid)).toBe(false);
    } finally {
      await f.close();
    }
  });

  it('an endless flood of output is stopped at the output cap', async () => {
    const f = await withFake('flood', {
      CLAUDE_TIERS_CONFIG: configFile({ limits: { maxOutputBytes: 20 * 1024 * 1024 } }),
    });
    try {
      const v = viewOf(await f.client.callTool({ name: 'deep_task', arguments: { prompt: 'x', wait_s: 40 } }));
      expect(v.state).toBe('failed');
      expect(v.end?.reason).toBe('output_cap');
      expect(v.end?.message).toMatch(/over the cap of 20 MB/);
    } finally {
      await f.close();
    }
  });
});

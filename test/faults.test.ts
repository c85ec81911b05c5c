import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { claudeChildren, configFile, startServer, textOf, waitFor, type StartedServer } from './support/harness.js';
import { viewOf, type TaskView as View } from './support/views.js';

let api: ScriptedApi;
let s: StartedServer;

// Fast failures: no retries, no fallback model, breaker off (each case stands alone); hang and stall rows ask for a 4 s
// idle timeout.
const FAST = {
  tiers: { comprehensive: { mcpConfig: null, maxRetries: 0, fallbackModel: 'opus', idleTimeoutS: 60 } },
  limits: { breakerThreshold: 0 },
};

async function runToEnd(server: StartedServer, prompt: string): Promise<View> {
  const idle = /\[\[(hang|stall)\]\]/.test(prompt) ? { idle_timeout_s: 4 } : {};
  let v = viewOf(await server.client.callTool({ name: 'deep_task', arguments: { prompt, wait_s: 30, ...idle } }));
  const end = Date.now() + 60_000;
  while (!v.final && Date.now() < end)
    v = viewOf(
      await server.client.callTool({
        name: 'task_status',
        arguments: { task_id: v.task_id, wait_s: 10, cursor: v.cursor },
      }),
    );
  return v;
}

beforeAll(async () => {
  api = await startScriptedApi();
  s = await startServer(api, { env: { CLAUDE_TIERS_CONFIG: configFile(FAST) } });
});
afterAll(async () => {
  await s?.close();
  await api?.close();
});

describe('API faults end each task in the right state with a clear message, and leave nothing running', () => {
  it.each([
    ['401', '[[error:401]]', 'failed', /Claude API error 401: .*authentication failed; check ANTHROPIC_API_KEY/],
    ['429', '[[error:429]]', 'failed', /Claude API error 429: .*rate limited/],
    ['500', '[[error:500]]', 'failed', /Claude API error 500/],
    ['529', '[[error:529]]', 'failed', /Claude API error 529: .*overloaded/],
    ['hang', '[[hang]]', 'timed_out', /no event from claude for 4 s/],
    ['stall mid-message', '[[stall]]', 'timed_out', /no event from claude for 4 s/],
    ['cut mid-message', '[[cut]]', 'failed', /error/i],
    ['malformed SSE', '[[malformed]]', 'failed', /error/i],
  ])('%s', async (_name, prompt, state, message) => {
    const v = await runToEnd(s, `fault ${prompt}`);
    expect(v.state).toBe(state);
    expect(v.end?.message).toMatch(message);
    expect(await waitFor(() => claudeChildren(s.pid).length === 0, 20_000)).toBe(true);
    const alive = await s.client.callTool({ name: 'list_tasks', arguments: { limit: 1 } });
    expect(alive.isError).toBeFalsy();
  });

  it('connection refused: failed, says the API is unreachable', async () => {
    const down = await startServer(api, {
      env: { CLAUDE_TIERS_CONFIG: configFile(FAST), ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' },
    });
    try {
      const v = await runToEnd(down, 'unreachable');
      expect(v.state).toBe('failed');
      expect(v.end?.message).toMatch(/unreachable|connect/i);
      const q = await down.client.callTool({ name: 'quick_answer', arguments: { prompt: 'x' } });
      expect(q.isError).toBe(true);
      expect(textOf(q)).toMatch(/unreachable: .*check ANTHROPIC_BASE_URL/);
    } finally {
      await down.close();
    }
  });
});

describe('a state dir that fills up mid-task', () => {
  const mnt = mkdtempSync(join(tmpdir(), 'ct-small-'));
  let mounted = false;
  try {
    execSync(`mount -t tmpfs -o size=256k tmpfs ${mnt}`, { stdio: 'ignore' });
    mounted = true;
  } catch {
    /* not permitted here */
  }
  afterAll(() => {
    if (mounted) execSync(`umount -l ${mnt}`, { stdio: 'ignore' });
  });

  it.runIf(mounted)(
    'the task still ends right, the status names the disk problem, the server keeps serving',
    async () => {
      const stateDir = join(mnt, 'state');
      mkdirSync(stateDir);
      const full = await startServer(api, { stateDir, env: { CLAUDE_TIERS_CONFIG: configFile(FAST) } });
      try {
        const v = await runToEnd(full, '[[len:400000]]');
        expect(v.state).toBe('succeeded');
        expect(v.store_error).toMatch(/ENOSPC|no space/i);
        const next = await runToEnd(full, '[[text:still serving]]');
        expect(next.result?.text).toBe('still serving');
      } finally {
        await full.close();
      }
    },
  );
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import {
  argvRecordingClaude,
  isAlive,
  processesMatching,
  startServer,
  textOf,
  uniqueSleep,
  waitFor,
  type StartedServer,
} from '../support/harness.js';

let api: ScriptedApi;
let server: StartedServer;

beforeAll(async () => {
  api = await startScriptedApi();
  server = await startServer(api);
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

describe('quick_answer through a real MCP client and the real claude', () => {
  it('lists the tools with schemas', async () => {
    const { tools } = await server.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(['quick_answer', 'deep_task', 'task_status', 'list_tasks', 'kill_task']),
    );
    const quick = tools.find((t) => t.name === 'quick_answer')!;
    expect(quick.inputSchema.required).toEqual(['prompt']);
    expect(quick.outputSchema).toBeDefined();
  });

  it('answers with the speed tier model and structured content', async () => {
    api.reset();
    const result = await server.client.callTool({
      name: 'quick_answer',
      arguments: { prompt: 'What is 2+2? [[text:The answer is 4.]]' },
    });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('The answer is 4.');
    const sc = result.structuredContent as Record<string, unknown>;
    expect(sc.answer).toBe('The answer is 4.');
    expect(sc.session_id).toMatch(/[0-9a-f-]{36}/);
    expect(typeof sc.duration_ms).toBe('number');
    expect(typeof sc.cost_usd).toBe('number');
    const asked = api.messageRequests((r) => r.firstUserText.includes('What is 2+2?'));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((r) => /haiku/i.test(r.model ?? ''))).toBe(true);
  });

  it('passes flag-shaped prompts to the model verbatim', async () => {
    for (const prompt of ['--version', '--dangerously-skip-permissions']) {
      api.reset();
      const result = await server.client.callTool({ name: 'quick_answer', arguments: { prompt } });
      expect(result.isError, textOf(result)).toBeFalsy();
      expect(textOf(result)).not.toMatch(/Claude Code\)?$/);
      const seen = api.messageRequests((r) => r.firstUserText.trim() === prompt || r.lastUserText.trim() === prompt);
      expect(seen.length, `the API should have received ${prompt} as the prompt`).toBeGreaterThan(0);
    }
  });

  it('reports API errors 529 and 401 with the status, within seconds', async () => {
    for (const status of [529, 401]) {
      const started = Date.now();
      const result = await server.client.callTool({
        name: 'quick_answer',
        arguments: { prompt: `fail please [[error:${status}]]` },
      });
      const elapsed = Date.now() - started;
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(String(status));
      // Seconds, not claude's ~3-minute retry loop: at most one retry reached the API (CLAUDE_CODE_MAX_RETRIES=1).
      expect(
        api.messageRequests((q) => q.firstUserText.includes(`fail please [[error:${status}]]`)).length,
      ).toBeLessThanOrEqual(2);
      expect(elapsed).toBeLessThan(60_000);
    }
  }, 180_000);

  it('refuses bad input with the field named, and keeps serving', async () => {
    const empty = await server.client.callTool({ name: 'quick_answer', arguments: { prompt: '' } });
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toMatch(/prompt/);
    const missing = await server.client.callTool({ name: 'quick_answer', arguments: {} });
    expect(textOf(missing)).toMatch(/prompt is required/);
    const flagModel = await server.client.callTool({
      name: 'quick_answer',
      arguments: { prompt: 'hi', model: '--dangerously-skip-permissions' },
    });
    expect(flagModel.isError).toBe(true);
    expect(textOf(flagModel)).toMatch(/model/);
    const ok = await server.client.callTool({
      name: 'quick_answer',
      arguments: { prompt: 'still there? [[text:yes]]' },
    });
    expect(textOf(ok)).toBe('yes');
  });
});

describe('quick_answer edge cases with their own server', () => {
  it("never adds a flag from the prompt to claude's argv", async () => {
    const rec = argvRecordingClaude(mkdtempSync(join(tmpdir(), 'ct-argv-')));
    const s = await startServer(api, { env: { CLAUDE_TIERS_CLAUDE_BIN: rec.bin } });
    try {
      const result = await s.client.callTool({
        name: 'quick_answer',
        arguments: { prompt: '--dangerously-skip-permissions' },
      });
      expect(result.isError, textOf(result)).toBeFalsy();
      const runs = rec.runs();
      expect(runs.length).toBe(1);
      expect(runs[0]).not.toContain('--dangerously-skip-permissions');
      expect(runs[0]!.some((a) => a.includes('dangerously'))).toBe(false);
      expect(runs[0]).toContain('--model=haiku');
    } finally {
      await s.close();
    }
  });

  it('says clearly when claude is missing, and the server answers the next call', async () => {
    const s = await startServer(api, { env: { CLAUDE_TIERS_CLAUDE_BIN: '/nonexistent/claude' } });
    try {
      const result = await s.client.callTool({ name: 'quick_answer', arguments: { prompt: 'hello' } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/claude not found/);
      expect(textOf(result)).toMatch(/CLAUDE_TIERS_CLAUDE_BIN/);
      const next = await s.client.callTool({ name: 'list_tasks', arguments: {} });
      expect(next.isError).toBeFalsy();
      expect(s.stderr()).toMatch(/claude: NOT FOUND/);
    } finally {
      await s.close();
    }
  });

  it('works over the 2026-07-28 protocol (server/discover)', async () => {
    const s = await startServer(api, { era: 'modern' });
    try {
      expect(s.client.getNegotiatedProtocolVersion?.() ?? '2026-07-28').toBe('2026-07-28');
      const { tools } = await s.client.listTools();
      expect(tools.map((t) => t.name)).toContain('quick_answer');
      const result = await s.client.callTool({
        name: 'quick_answer',
        arguments: { prompt: 'modern era [[text:modern ok]]' },
      });
      expect(textOf(result)).toBe('modern ok');
    } finally {
      await s.close();
    }
  });

  it('ends when the client closes and leaves no claude behind', async () => {
    const marker = uniqueSleep(77);
    const s = await startServer(api);
    const started = await s.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:echo started; sleep ${marker}]]`, wait_s: 0 },
    });
    expect(started.isError, textOf(started)).toBeFalsy();
    expect(await waitFor(() => processesMatching(marker).length > 0, 20_000)).toBe(true);
    const t0 = Date.now();
    await s.close();
    expect(await waitFor(() => !isAlive(s.pid), 30_000)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await waitFor(() => processesMatching(marker).length === 0, 20_000)).toBe(true);
  });
});

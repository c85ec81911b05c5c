import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { isAlive, startServer, waitFor } from '../support/harness.js';
import { metricsPortOf, parseProm, value, type Sample } from '../support/prom.js';

// Issue 14: the comprehensive tier gets spares with its MCP servers already connected; a deep_task takes its first
// event from a warm spare. How fast (≤ 0.4 s, 0.091× cold) is `npm run bench -- first-event`: a clock is no test on
// a busy machine.
let api: ScriptedApi;
beforeAll(async () => {
  api = await startScriptedApi();
});
afterAll(async () => {
  await api?.close();
});

describe('comprehensive spares', () => {
  it('a deep_task on a warm spare (MCP servers connected) takes its first event from the spare', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'ct-deep-spare-')), 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        tiers: { comprehensive: { minSpares: 1, maxSpares: 1 }, speed: { warmSpares: 0, maxSpares: 0 } },
      }),
    );
    const s = await startServer(api, {
      mcp: true,
      args: ['--metrics-port', '0'],
      env: { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_WARM_SPARES: '' },
    });
    try {
      const port = await metricsPortOf(s.stderr, 10_000);
      const scrape = async (): Promise<Sample[]> => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        return res.status === 200 ? parseProm(await res.text()) : [];
      };
      expect(
        await waitFor(
          async () => value(await scrape(), 'claude_tiers_spares_ready', { tier: 'comprehensive' }) === 1,
          40_000,
          200,
        ),
      ).toBe(true);
      // The MCP servers connect while the spare waits: give them the time a person would take to type a prompt.
      await new Promise((r) => setTimeout(r, 2500));
      const stats = await s.client.callTool({ name: 'server_stats', arguments: {} });
      const [spare] = (stats.structuredContent as { spares: { ready_pids: number[] } }).spares.ready_pids;
      expect(spare).toBeDefined();
      const r = await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: '[[text:from a warm spare]]', wait_s: 50 },
      });
      const v = r.structuredContent as { state: string; result?: { text: string } };
      expect(v.state).toBe('succeeded');
      expect(v.result?.text).toBe('from a warm spare');
      const samples = await scrape();
      expect(value(samples, 'claude_tiers_spare_hits_total', { tier: 'comprehensive' })).toBe(1);
      const count = value(samples, 'claude_tiers_task_first_event_seconds_count', { tier: 'comprehensive' });
      expect(count).toBe(1);
      // The spare that was ready before the call is the process that ran the task: it was used, so it is gone.
      expect(await waitFor(() => !isAlive(spare!), 20_000)).toBe(true);
      // Its MCP servers were there: the request claude made offered their tools.
      expect(
        api
          .messageRequests((q) => q.firstUserText.includes('from a warm spare'))
          .some((q) => q.tools.some((t) => t.startsWith('mcp__'))),
      ).toBe(true);
    } finally {
      await s.close();
    }
  });
});

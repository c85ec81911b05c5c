import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { startServer, textOf, waitFor } from '../support/harness.js';
import { metricsPortOf, parseProm, value } from '../support/prom.js';

// Issue 14, spares that scale: a burst grows the speed tier's pool to maxSpares, a quiet spell shrinks it back to
// minSpares, both seen in /metrics; a second cwd gets spares of its own.
let api: ScriptedApi;
beforeAll(async () => {
  api = await startScriptedApi();
});
afterAll(async () => {
  await api?.close();
});

describe('warm spares follow demand', () => {
  it(
    'a burst of 10 quick answers grows the pool to maxSpares, the idle period shrinks it to minSpares, and ' +
      'two cwds are both served warm',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ct-scale-'));
      const [a, b] = [join(dir, 'a'), join(dir, 'b')];
      mkdirSync(a);
      mkdirSync(b);
      const config = join(dir, 'config.json');
      writeFileSync(
        config,
        JSON.stringify({
          allowedRoots: [a, b],
          tiers: { comprehensive: { mcpConfig: null }, speed: { warmSpares: 1, maxSpares: 3 } },
          limits: { spareIdleS: 8, spareWarmupS: 5 },
        }),
      );
      // CLAUDE_TIERS_WARM_SPARES empty: the config decides (the harness otherwise turns spares off).
      const s = await startServer(api, {
        args: ['--metrics-port', '0'],
        cwd: a,
        env: { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_WARM_SPARES: '' },
      });
      try {
        const port = await metricsPortOf(s.stderr, 10_000);
        const ready = async (tier = 'speed') => {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`);
          // 503 while the engine is still being built.
          return res.status === 200 ? value(parseProm(await res.text()), 'claude_tiers_spares_ready', { tier }) : -1;
        };
        expect(await waitFor(async () => (await ready()) === 1, 40_000)).toBe(true);
        // The pool is watched while the burst runs: it grows as the requests arrive.
        let peak = 0;
        const burst = Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            s.client.callTool({ name: 'quick_answer', arguments: { prompt: `burst ${i} [[text:b${i}]]`, cwd: a } }),
          ),
        );
        expect(await waitFor(async () => (peak = Math.max(peak, await ready())) === 3, 40_000, 100)).toBe(true);
        expect((await burst).every((r) => !r.isError)).toBe(true);
        // Quiet for longer than spareIdleS: back to minSpares.
        expect(await waitFor(async () => (await ready()) === 1, 40_000, 500)).toBe(true);
        // Another cwd: its first call is cold, it then has spares of its own, and its next call is warm.
        const first = await s.client.callTool({
          name: 'quick_answer',
          arguments: { prompt: '[[text:b first]]', cwd: b },
        });
        expect((first.structuredContent as { warm: boolean }).warm).toBe(false);
        await waitFor(
          async () =>
            (
              (await s.client.callTool({ name: 'server_stats', arguments: {} })).structuredContent as {
                spares: { ready: number };
              }
            ).spares.ready >= 2,
          15_000,
          200,
        );
        const second = await s.client.callTool({
          name: 'quick_answer',
          arguments: { prompt: '[[text:b second]]', cwd: b },
        });
        expect(textOf(second)).toBe('b second');
        expect((second.structuredContent as { warm: boolean }).warm).toBe(true);
        const again = await s.client.callTool({
          name: 'quick_answer',
          arguments: { prompt: '[[text:a again]]', cwd: a },
        });
        expect((again.structuredContent as { warm: boolean }).warm).toBe(true);
      } finally {
        await s.close();
      }
    },
  );
});

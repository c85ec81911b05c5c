import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScriptedApi } from '../test/support/scripted-api.js';
import { sleep, startServer, type StartedServer } from '../test/support/harness.js';
import { metricsPortOf, parseProm, value } from '../test/support/prom.js';
import { report } from './report.js';
import { ratioRows } from './stats.js';

// first-event: deep_task (comprehensive tier, its three MCP servers on) from getting its slot to claude's first line,
// on a warm spare vs cold, interleaved; each task's figure is the growth of the server's own histogram sum.
export async function benchFirstEvent(api: ScriptedApi, rounds = 6): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ct-bench-fe-'));
  const start = async (name: string, spares: { minSpares: number; maxSpares: number }) => {
    const config = join(dir, `${name}.json`);
    writeFileSync(config, JSON.stringify({ tiers: { comprehensive: spares, speed: { warmSpares: 0, maxSpares: 0 } } }));
    const s = await startServer(api, {
      mcp: true,
      args: ['--metrics-port', '0'],
      env: { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_WARM_SPARES: '', CLAUDE_TIERS_LOG_LEVEL: 'warn' },
    });
    const port = await metricsPortOf(s.stderr, 15_000);
    const sum = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      return res.status === 200
        ? value(parseProm(await res.text()), 'claude_tiers_task_first_event_seconds_sum', { tier: 'comprehensive' })
        : 0;
    };
    return { s, sum };
  };
  const cold = await start('cold', { minSpares: 0, maxSpares: 0 });
  const warm = await start('warm', { minSpares: 1, maxSpares: 1 });
  const times = { warm: [] as number[], cold: [] as number[] };
  const one = async (srv: { s: StartedServer; sum: () => Promise<number> }, i: number) => {
    const before = await srv.sum();
    const r = await srv.s.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `first event ${i} [[text:ok ${i}]]`, wait_s: 30 },
    });
    if ((r.structuredContent as { state?: string }).state !== 'succeeded')
      throw new Error(`round ${i}: ${JSON.stringify(r.structuredContent).slice(0, 200)}`);
    return ((await srv.sum()) - before) * 1000;
  };
  try {
    await sleep(4000);
    for (let i = 0; i < rounds; i++) {
      times.cold.push(await one(cold, i));
      times.warm.push(await one(warm, i));
      // The used spare is replaced (its MCP servers connect) before the next round.
      await sleep(3500);
    }
  } finally {
    await Promise.allSettled([cold.s.close(), warm.s.close()]);
  }
  report(
    'first-event',
    ratioRows({ name: 'cold', times: times.cold }, [
      ['deep_task on a warm spare (MCP servers connected)', times.warm],
      ['deep_task cold (spawn, MCP servers connect)', times.cold],
    ]),
    { rounds, target: 'warm <= 400 ms and <= 0.5x cold (ratio_vs_cold)', raw_ms: times },
  );
}

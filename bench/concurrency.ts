import type { ScriptedApi } from '../test/support/scripted-api.js';
import { claudeChildren, configFile, sleep, startServer } from '../test/support/harness.js';
import { report } from './report.js';
import { round, rssMb } from './stats.js';

// One client submits all 32 at once: the per-client rate limit (burst 20) is off here, the queue is what is measured.
const CONFIG = (): string =>
  configFile({ tiers: { comprehensive: { mcpConfig: null } }, limits: { ratePerMinute: 0 } });

// concurrency: 32 deep_tasks with a Bash step, at a running limit of 4 and of 8.
export async function benchConcurrency(api: ScriptedApi, total = 32): Promise<void> {
  const rows: Array<Record<string, string | number>> = [];
  for (const limit of [4, 8]) {
    const s = await startServer(api, {
      env: { CLAUDE_TIERS_CONFIG: CONFIG(), CLAUDE_TIERS_MAX_RUNNING: String(limit), CLAUDE_TIERS_LOG_LEVEL: 'warn' },
    });
    let peak = 0;
    let peakRss = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, claudeChildren(s.pid).length);
        peakRss = Math.max(peakRss, rssMb(s.pid));
        await sleep(100);
      }
    })();
    try {
      const t = performance.now();
      const ids: string[] = [];
      for (let i = 0; i < total; i++) {
        const r = await s.client.callTool({
          name: 'deep_task',
          arguments: { prompt: `c${i} [[bash:echo started; sleep 1]]`, wait_s: 0 },
        });
        if (r.isError) throw new Error(`deep_task refused: ${JSON.stringify(r.content)}`);
        ids.push((r.structuredContent as { task_id: string }).task_id);
      }
      let finished: string[] = [];
      while (finished.length < total) {
        const r = await s.client.callTool(
          { name: 'task_status', arguments: { task_ids: ids, wait_for: 'all', wait_s: 60 } },
          { timeout: 120_000 },
        );
        finished = (r.structuredContent as { finished: string[] }).finished;
      }
      const wall = (performance.now() - t) / 1000;
      sampling = false;
      await sampler;
      const states = await Promise.all(
        ids.map(
          async (id) =>
            (
              (await s.client.callTool({ name: 'task_status', arguments: { task_id: id, tail: 0 } }))
                .structuredContent as { state: string }
            ).state,
        ),
      );
      rows.push({
        limit,
        tasks: total,
        succeeded: states.filter((x) => x === 'succeeded').length,
        wall_s: round(wall),
        tasks_per_s: round(total / wall, 2),
        peak_claude: peak,
        peak_server_rss_mb: peakRss,
      });
    } finally {
      sampling = false;
      await s.close();
    }
  }
  report('concurrency', rows, {
    task: 'deep_task with one Bash step (echo; sleep 1), comprehensive tier without MCP servers',
  });
}

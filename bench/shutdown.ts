import { defaultConfig } from '../src/config/defaults.js';
import type { ScriptedApi } from '../test/support/scripted-api.js';
import { isAlive, processesMatching, sleep, startServer, uniqueSleep, waitFor } from '../test/support/harness.js';
import { report } from './report.js';
import { median, pct, round } from './stats.js';

// shutdown: SIGTERM to a server with a running task (a Bash step) until the server has exited, as a ratio of its own
// limit (limits.shutdownMs). The suite only checks that it exits and what it leaves; this is where the speed is
// claimed.
export async function benchShutdown(api: ScriptedApi, reps = 6): Promise<void> {
  const limitMs = defaultConfig().limits.shutdownMs;
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const marker = uniqueSleep(200);
    const s = await startServer(api, { env: { CLAUDE_TIERS_LOG_LEVEL: 'warn' } });
    try {
      await s.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `[[bash:echo started; sleep ${marker}]]`, wait_s: 0 },
      });
      if (!(await waitFor(() => processesMatching(marker).length > 0, 30_000)))
        throw new Error(`round ${i}: the Bash step never started`);
      const t = performance.now();
      process.kill(s.pid, 'SIGTERM');
      if (!(await waitFor(() => !isAlive(s.pid), 60_000, 5))) throw new Error(`round ${i}: the server did not exit`);
      times.push(performance.now() - t);
      if (processesMatching(marker).length) throw new Error(`round ${i}: the task's Bash step outlived the server`);
    } finally {
      await s.close().catch(() => {});
    }
    await sleep(500);
  }
  const m = median(times);
  const row = {
    what: 'SIGTERM -> server exited (a task running)',
    median_ms: round(m),
    p90_ms: round(pct(times, 90)),
    max_ms: round(Math.max(...times)),
    limit_ms: limitMs,
    ratio_vs_limit: round(m / limitMs, 3),
  };
  report('shutdown', [row], {
    reps,
    target: 'median <= 1.43x limits.shutdownMs (2 s)',
    raw_ms: times.map((t) => round(t)),
  });
}

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { configFile, serverEnv, startHttpServer } from '../test/support/harness.js';
import { startRedis } from '../test/support/redis.js';
import type { ScriptedApi } from '../test/support/scripted-api.js';
import { benchFailover } from './failover.js';
import { report } from './report.js';
import { round } from './stats.js';

const TOKEN = 'bench-scale-token-0123456789';
const CONFIG = (): string =>
  configFile({ tiers: { comprehensive: { mcpConfig: null } }, limits: { ratePerMinute: 0 } });

// One setup: `servers` HTTP servers (on Redis when redisUrl is set), `perServer` tasks running at once on each;
// `total` deep_tasks submitted round-robin, followed from the first server until all are done.
async function run(
  api: ScriptedApi,
  setup: { servers: number; perServer: number; redisUrl?: string },
  total: number,
): Promise<Record<string, string | number>> {
  const config = CONFIG();
  const started = await Promise.all(
    Array.from({ length: setup.servers }, async () => {
      const { env } = await serverEnv(api, {
        env: {
          CLAUDE_TIERS_CONFIG: config,
          CLAUDE_TIERS_HTTP_TOKEN: TOKEN,
          CLAUDE_TIERS_MAX_RUNNING: String(setup.perServer),
          CLAUDE_TIERS_LOG_LEVEL: 'warn',
          ...(setup.redisUrl ? { CLAUDE_TIERS_REDIS_URL: setup.redisUrl } : {}),
        },
      });
      const http = await startHttpServer(env);
      const client = new Client({ name: 'bench-scale', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(http.url), {
          requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
        }),
      );
      return { http, client };
    }),
  );
  try {
    const t = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < total; i++) {
      const r = await started[i % started.length]!.client.callTool({
        name: 'deep_task',
        arguments: { prompt: `s${i} [[bash:echo started; sleep 1]]`, wait_s: 0 },
      });
      if (r.isError) throw new Error(`deep_task refused: ${JSON.stringify(r.content)}`);
      ids.push((r.structuredContent as { task_id: string }).task_id);
    }
    let finished: string[] = [];
    while (finished.length < total) {
      const r = await started[0]!.client.callTool(
        { name: 'task_status', arguments: { task_ids: ids, wait_for: 'all', wait_s: 60 } },
        { timeout: 120_000 },
      );
      finished = (r.structuredContent as { finished: string[] }).finished;
    }
    const wall = (performance.now() - t) / 1000;
    const states: string[] = [];
    for (const id of ids) {
      const r = await started[0]!.client.callTool({ name: 'task_status', arguments: { task_id: id, tail: 0 } });
      if (r.isError) throw new Error(`task_status ${id}: ${JSON.stringify(r.content)}`);
      states.push((r.structuredContent as { state: string }).state);
    }
    const backend = setup.redisUrl
      ? `redis, ${setup.servers} worker process${setup.servers > 1 ? 'es' : ''}`
      : 'embedded (no Redis)';
    return {
      backend,
      running_at_once: setup.servers * setup.perServer,
      tasks: total,
      succeeded: states.filter((s) => s === 'succeeded').length,
      wall_s: round(wall),
      tasks_per_s: round(total / wall, 2),
    };
  } finally {
    for (const s of started) {
      await s.client.close().catch(() => {});
      await s.http.close();
    }
  }
}

// scale: tasks/s with one worker process and with two on one Redis, the same number running at once in all, and the
// embedded backend as the baseline. On a 2-core machine this checks correctness and Redis's cost, not a speed-up.
export async function benchScale(api: ScriptedApi, total = 24): Promise<void> {
  const redis = await startRedis();
  const conn = redis.client();
  // What the tasks' own keys hold (record hash and event stream), by Redis's MEMORY USAGE.
  const taskBytes = async () => {
    let bytes = 0;
    let tasks = 0;
    for (const key of await conn.keys('claude-tiers:*')) {
      if (!/:(task|ev):t_/.test(key)) continue;
      bytes += (await conn.memory('USAGE', key)) ?? 0;
      if (key.includes(':task:')) tasks++;
    }
    return bytes / Math.max(1, tasks);
  };
  try {
    const rows = [await run(api, { servers: 1, perServer: 4 }, total)];
    rows.push(await run(api, { servers: 1, perServer: 4, redisUrl: redis.url }, total));
    const perTask = await taskBytes();
    const usedMb = Number(/used_memory:(\d+)/.exec(await conn.info('memory'))![1]) / 1024 / 1024;
    rows.push(await run(api, { servers: 2, perServer: 2, redisUrl: redis.url }, total));
    const failover = await benchFailover(api, redis.url, CONFIG());
    const one = Number(rows[1]!.tasks_per_s);
    const two = Number(rows[2]!.tasks_per_s);
    report('scale', rows, {
      task: 'deep_task with one Bash step (echo; sleep 1), 4 running at once in every setup',
      two_vs_one_worker: round(two / one, 2),
      redis_vs_embedded: round(one / Number(rows[0]!.tasks_per_s), 2),
      redis_kb_per_task: round(perTask / 1024, 1),
      redis_mb_per_10k_tasks: round((perTask * 10_000) / 1024 / 1024, 1),
      redis_used_memory_mb_after_48_tasks: round(usedMb, 1),
      ...failover,
    });
  } finally {
    await redis.close();
  }
}

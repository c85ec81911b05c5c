import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile, isAlive, waitFor } from '../support/harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { startNode, type Node } from './cluster-support.js';

let api: ScriptedApi;
let redis: TestRedis;
let front: Node;
let worker: Node;

// A nested server (depth 1, inside a claude that claude-tiers started) queues a task; a server at depth 0 that keeps a
// warm spare of the same key runs it. The spare's claude was started at depth 0: the task must not take it, or the
// recursion guard (CLAUDE_TIERS_DEPTH in claude's env) would say 1 where it is 2, and a chain of servers could queue
// without end.
beforeAll(async () => {
  [api, redis] = await Promise.all([startScriptedApi(), startRedis()]);
  const tiers = {
    comprehensive: { mcpConfig: null, minSpares: 1, maxSpares: 1 },
    speed: { warmSpares: 0, maxSpares: 0 },
  };
  const limits = { ratePerMinute: 0 };
  [front, worker] = await Promise.all([
    startNode('nested', api, redis.url, {
      CLAUDE_TIERS_CONFIG: configFile({ maxDepth: 3, tiers: { comprehensive: { mcpConfig: null } }, limits }),
      CLAUDE_TIERS_DEPTH: '1',
      CLAUDE_TIERS_MAX_RUNNING: '0',
    }),
    startNode('worker', api, redis.url, {
      CLAUDE_TIERS_CONFIG: configFile({ maxDepth: 3, tiers, limits }),
      CLAUDE_TIERS_WARM_SPARES: '',
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([front, worker].map((n) => n?.close()));
  await redis?.close();
  await api?.close();
});

describe('a task queued by a deeper server', () => {
  it("runs at that server's depth, not on a warm spare started at the worker's", async () => {
    const readyPids = async () =>
      ((await worker.call('server_stats', {})).spares as { ready_pids: number[] }).ready_pids;
    expect(await waitFor(async () => (await readyPids()).length === 1, 60_000, 200)).toBe(true);
    const [spare] = await readyPids();
    const r = await front.call('deep_task', { prompt: '[[bash:echo depth=$CLAUDE_TIERS_DEPTH]]', wait_s: 60 });
    expect(r.isError, r.text).toBeFalsy();
    expect(r.state, r.text).toBe('succeeded');
    // Its claude runs one deeper than the server that queued it.
    expect((r.result as { text: string }).text).toContain('depth=2');
    // The spare is still there, waiting for a task of the worker's own depth.
    expect(isAlive(spare!)).toBe(true);
    expect(await readyPids()).toContain(spare);
  }, 120_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile, processesMatching, uniqueSleep, waitFor } from '../support/harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { startNode, type Node, type Result } from './cluster-support.js';

// Issue 19 item 8 in a cluster: the shared BullMQ queue gives each principal (HTTP token) its fair share of places
// and serves principals in turn, across servers, on a real redis-server. Token a fills the one running slot and the
// queue through one server; token c, through the other, still gets a place and runs before a's later tasks.
const A = 'a-token-qshare-0123456789abcdefgh';
const C = 'c-token-qshare-0123456789abcdefgh';
let api: ScriptedApi;
let redis: TestRedis;
let front: Node;
let worker: Node;

beforeAll(async () => {
  [api, redis] = await Promise.all([startScriptedApi(), startRedis()]);
  const config = configFile({
    tiers: { comprehensive: { mcpConfig: null } },
    httpTokens: [
      { name: 'a', token: A },
      { name: 'c', token: C },
    ],
    limits: { ratePerMinute: 0 },
  });
  const env = { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_MAX_QUEUE: '2' };
  [front, worker] = await Promise.all([
    startNode('qs-front', api, redis.url, { ...env, CLAUDE_TIERS_MAX_RUNNING: '0' }),
    startNode('qs-worker', api, redis.url, { ...env, CLAUDE_TIERS_MAX_RUNNING: '1' }),
  ]);
});
afterAll(async () => {
  await Promise.all([front, worker].map((n) => n?.close()));
  await redis?.close();
  await api?.close();
});

describe('the shared queue, per principal', () => {
  it(
    'token a over its share is refused with its own numbers; token c gets a place in a full queue and runs ' +
      "before a's later tasks",
    async () => {
      const a = await front.as(A);
      const c = await worker.as(C);
      // Each token sees only its own tasks.
      const stateOf = async (id: unknown) =>
        (await (id === c1Id ? c : a)('task_status', { task_id: id })).state as string;
      // eslint-disable-next-line prefer-const -- stateOf, above, reads it; it is set once c1 starts
      let c1Id: unknown;
      const hang = async (marker: string): Promise<Result> =>
        a('deep_task', { prompt: `[[bash:echo x; sleep ${marker}]]`, wait_s: 0 });
      const first = uniqueSleep(120);
      const a1 = await hang(first);
      expect(a1.isError, a1.text).toBeFalsy();
      expect(await waitFor(() => processesMatching(`sleep ${first}`).length > 0, 60_000)).toBe(true);
      const a2 = await hang(uniqueSleep(120));
      const a3 = await hang(uniqueSleep(120));
      for (const r of [a2, a3]) expect(r.isError, r.text).toBeFalsy();
      // a alone holds the whole queue (2 places): its next task is refused, with its own numbers.
      const a4 = await hang(uniqueSleep(120));
      expect(a4.isError).toBe(true);
      expect(a4.text).toMatch(
        new RegExp(
          String.raw`^queue full: 2 queued for token "a" in the shared queue, ` +
            String.raw`its whole share \(2 places: maxQueue shared by 1 active principals\); ` +
            String.raw`the cluster has 2 queued \(limits: maxQueue 2\)`,
        ),
      );
      // c, through the other server, is under its share (1 of 2 shared by a and c): it gets a place in the full queue.
      const c1 = await c('deep_task', { prompt: '[[text:c was served]]', wait_s: 0 });
      expect(c1.isError, c1.text).toBeFalsy();
      expect(c1.state).toBe('queued');
      c1Id = c1.task_id;
      const c2 = await c('deep_task', { prompt: '[[text:too many]]', wait_s: 0 });
      expect(c2.text).toMatch(
        new RegExp(
          String.raw`^queue full: 1 queued for token "c" in the shared queue, ` +
            String.raw`its whole share \(1 places: maxQueue shared by 2 active principals\); ` +
            String.raw`the cluster has 3 queued`,
        ),
      );
      // The slot frees twice: a's first queued task (queued before c's) and then c's run, before a's second.
      expect((await a('kill_task', { task_id: a1.task_id })).state).toBe('killed');
      expect(await waitFor(async () => (await stateOf(a2.task_id)) === 'running', 60_000)).toBe(true);
      expect((await a('kill_task', { task_id: a2.task_id })).state).toBe('killed');
      // c's task took the slot while a's third still waits (FIFO would have run a's third first).
      expect(await waitFor(async () => (await stateOf(c1.task_id)) !== 'queued', 60_000)).toBe(true);
      expect(await stateOf(a3.task_id)).toBe('queued');
      expect(await waitFor(async () => (await stateOf(c1.task_id)) === 'succeeded', 90_000)).toBe(true);
      expect(String((await c('task_status', { task_id: c1.task_id })).text)).toContain('c was served');
      expect((await a('kill_task', { task_id: a3.task_id })).state).toBe('killed');
    },
  );
});

import { describe, expect, it } from 'vitest';
import { isAlive, processesMatching, uniqueSleep, waitFor, waitForValue } from '../support/harness.js';
import { apiPerFile } from '../support/per-file.js';
import { startRedis } from '../support/redis.js';
import { ranOn, startNode, type Node, type View } from './cluster-support.js';

// Recovery paths: a server that shuts down with tasks waiting, a Redis that comes back empty or hangs, and a
// long-poll on another server's task that must wait, not spin.
const file = apiPerFile();

describe('cluster recovery', () => {
  it(
    'a server that shuts down (SIGTERM) takes no queued task on its way out: they all run on the other, ' + 'once',
    async () => {
      const redis = await startRedis();
      file.keep(redis);
      const nodes = await Promise.all(
        ['f', 'g'].map((n) => startNode(n, file.api, redis.url, { CLAUDE_TIERS_MAX_RUNNING: '1' })),
      );
      file.keep(...nodes);
      const [f, g] = nodes as [Node, Node];
      const sleeps = [uniqueSleep(300), uniqueSleep(300)];
      const long: string[] = [];
      for (const s of sleeps)
        long.push((await g.call('deep_task', { prompt: `[[bash:echo x; sleep ${s}]]`, wait_s: 0 })).task_id as string);
      await waitFor(() => sleeps.every((s) => processesMatching(`sleep ${s}`).length > 0), 30_000);
      const quick: string[] = [];
      for (let i = 0; i < 3; i++)
        quick.push((await g.call('deep_task', { prompt: `[[bash:echo after-${i}]]`, wait_s: 0 })).task_id as string);
      const onF = long.find((id) => ranOn([f], id))!;
      process.kill(f.pid, 'SIGTERM');
      await waitFor(() => !isAlive(f.pid), 15_000);
      expect(((await g.call('task_status', { task_id: onF })) as unknown as View).state).toBe('killed');
      for (const id of quick)
        expect(((await g.call('task_status', { task_id: id })) as unknown as View).state).toBe('queued');
      // Free g's slot: the three run there.
      expect((await g.call('kill_task', { task_id: long.find((id) => id !== onF)! })).state).toBe('killed');
      for (const id of quick) {
        let v = (await g.call('task_status', { task_id: id, wait_s: 30 })) as unknown as View;
        while (!v.final) v = (await g.call('task_status', { task_id: id, wait_s: 30 })) as unknown as View;
        expect(v.state, id).toBe('succeeded');
        expect(ranOn([g], id)).toBe(g);
      }
    },
    180_000,
  );

  it("a Redis that comes back without its data gets every server's finished tasks again", async () => {
    const redis = await startRedis({ persist: false });
    file.keep(redis);
    const nodes = await Promise.all(['h', 'i'].map((n) => startNode(n, file.api, redis.url)));
    file.keep(...nodes);
    const ids: string[] = [];
    for (let k = 0; k < 4; k++) {
      const v = (await nodes[k % 2]!.call('deep_task', {
        prompt: `[[bash:echo kept-${k}]]`,
        wait_s: 30,
      })) as unknown as View;
      expect(v.state).toBe('succeeded');
      ids.push(v.task_id);
    }
    // Both servers ran some.
    expect(new Set(ids.map((id) => ranOn(nodes, id)))).toEqual(new Set(nodes));
    await redis.stop();
    await redis.start();
    for (const node of nodes) {
      for (const [k, id] of ids.entries()) {
        const v = await waitForValue(
          async () => {
            const r = await node.call('task_status', { task_id: id });
            return r.isError ? undefined : (r as unknown as View);
          },
          20_000,
          250,
        );
        expect(v.state).toBe('succeeded');
        expect(v.result?.text).toContain(`kept-${k}`);
      }
    }
  }, 180_000);

  it('a Redis that hangs: calls fail within seconds with a clear error, and work again when it answers', async () => {
    const redis = await startRedis();
    file.keep(redis);
    const node = await startNode('j', file.api, redis.url);
    file.keep(node);
    redis.pause();
    try {
      const t0 = Date.now();
      const listed = await node.call('list_tasks', {});
      expect(listed.isError).toBe(true);
      expect(listed.text).toMatch(
        /shared task store \(Redis at redis:\/\/127\.0\.0\.1:\d+\/?\) is unreachable: .*timed out/i,
      );
      const refused = await node.call('deep_task', { prompt: '[[text:hung]]', wait_s: 0 });
      expect(refused.isError).toBe(true);
      // Two calls, each failing at the 2 s command timeout: 10x that for a busy machine (and far below "forever").
      expect(Date.now() - t0).toBeLessThan(40_000);
    } finally {
      redis.resume();
    }
    expect(((await node.call('deep_task', { prompt: '[[text:answered]]', wait_s: 30 })) as unknown as View).state).toBe(
      'succeeded',
    );
  }, 180_000);

  it(
    'a long-poll with a cursor on a task another server runs waits for a change instead of returning at ' + 'once',
    async () => {
      const redis = await startRedis();
      file.keep(redis);
      // The front end runs nothing: the task runs on the worker.
      const [front, worker] = await Promise.all([
        startNode('k', file.api, redis.url, { CLAUDE_TIERS_MAX_RUNNING: '0' }),
        startNode('l', file.api, redis.url),
      ]);
      file.keep(front!, worker!);
      const sleep = uniqueSleep(3);
      const id = (
        await front!.call('deep_task', { prompt: `[[bash:echo started; sleep ${sleep}]][[text:woke]]`, wait_s: 0 })
      ).task_id as string;
      await waitFor(() => processesMatching(`sleep ${sleep}`).length > 0, 30_000);
      let v = (await front!.call('task_status', { task_id: id })) as unknown as View;
      let polls = 0;
      while (!v.final && polls < 50) {
        v = (await front!.call('task_status', { task_id: id, wait_s: 10, cursor: v.cursor })) as unknown as View;
        polls++;
      }
      expect(v.state).toBe('succeeded');
      // A 3 s Bash step and the answer after it: a handful of changes, not a poll loop.
      expect(polls).toBeLessThan(12);
    },
    180_000,
  );
});

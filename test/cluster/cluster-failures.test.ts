import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, processesMatching, uniqueSleep, waitFor, waitForValue } from '../support/harness.js';
import { apiPerFile } from '../support/per-file.js';
import { startRedis } from '../support/redis.js';
import { ranOn, startNode, type Node, type View } from './cluster-support.js';

const file = apiPerFile();

const status = async (node: Node, id: string) => (await node.call('task_status', { task_id: id })) as unknown as View;

describe('failures', () => {
  it(
    'a worker SIGKILLed mid-task: its running task becomes lost with partial output, queued tasks run once on ' +
      'the others',
    async () => {
      const redis = await startRedis();
      file.keep(redis);
      const nodes = await Promise.all(
        ['a', 'b', 'c'].map((n) => startNode(n, file.api, redis.url, { CLAUDE_TIERS_MAX_RUNNING: '1' })),
      );
      file.keep(...nodes);
      const [a, b, c] = nodes as [Node, Node, Node];
      // Three long tasks: with one slot each, every server runs one of them.
      const sleeps = [uniqueSleep(300), uniqueSleep(300), uniqueSleep(300)];
      const long: string[] = [];
      for (const s of sleeps)
        long.push(
          (await b.call('deep_task', { prompt: `[[bash:echo partial-${s}; sleep ${s}]]`, wait_s: 0 }))
            .task_id as string,
        );
      await waitFor(() => sleeps.every((s) => processesMatching(`sleep ${s}`).length > 0), 30_000);
      const onB = long.find((id) => ranOn([b], id))!;
      expect(onB).toBeDefined();
      // Four quick tasks submitted through B wait in the shared queue (every slot is busy).
      const marks = mkdtempSync(join(tmpdir(), 'ct-runs-'));
      const quick: string[] = [];
      for (let i = 0; i < 4; i++)
        quick.push(
          (await b.call('deep_task', { prompt: `[[bash:echo run >> ${marks}/q-${i}; echo quick-${i}]]`, wait_s: 0 }))
            .task_id as string,
        );
      for (const id of quick) expect((await status(a, id)).state).toBe('queued');
      const bSleep = sleeps.find((s) =>
        readFileSync(join(b.stateDir, 'tasks', onB, 'events.jsonl'), 'utf8').includes(s),
      )!;
      process.kill(b.pid, 'SIGKILL');
      await waitFor(() => !isAlive(b.pid), 5000);
      // Nothing B started outlives it.
      await waitFor(() => processesMatching(`sleep ${bSleep}`).length === 0, 10_000);
      // Its running task is declared lost (its heartbeat expired), partial output kept.
      const lost = await waitForValue(
        async () => {
          const v = await status(a, onB);
          return v.state === 'lost' ? v : undefined;
        },
        90_000,
        500,
      );
      expect(lost.end?.message).toMatch(/stopped before the task finished/);
      expect(lost.events.join('\n')).toContain('Bash');
      expect((await status(c, onB)).state).toBe('lost');
      // Free A's and C's slots: the queued tasks run there, each once.
      for (const id of long.filter((id) => id !== onB))
        expect((await a.call('kill_task', { task_id: id })).state).toBe('killed');
      for (const id of quick) {
        const v = (await a.call('task_status', { task_id: id, wait_s: 30 })) as unknown as View;
        const done = v.final
          ? v
          : await waitForValue(async () => ((await status(c, id)).final ? status(c, id) : undefined), 60_000, 250);
        expect(done.state, id).toBe('succeeded');
        expect([a, c]).toContain(ranOn([a, c], id));
      }
      for (let i = 0; i < 4; i++) expect(readFileSync(join(marks, `q-${i}`), 'utf8')).toBe('run\n');
    },
    180_000,
  );

  it(
    'Redis stopped and started during a run: calls fail clearly meanwhile, a task that ends meanwhile reports ' +
      'its end, nothing finished is lost',
    async () => {
      const redis = await startRedis();
      file.keep(redis);
      const nodes = await Promise.all(['d', 'e'].map((n) => startNode(n, file.api, redis.url)));
      file.keep(...nodes);
      const [d, e] = nodes as [Node, Node];
      const first = (await d.call('deep_task', {
        prompt: '[[bash:echo before-outage]]',
        wait_s: 30,
      })) as unknown as View;
      expect(first.state).toBe('succeeded');
      const sleep = uniqueSleep(4);
      const during = (
        await e.call('deep_task', { prompt: `[[bash:echo x; sleep ${sleep}; echo after-sleep]]`, wait_s: 0 })
      ).task_id as string;
      await waitFor(() => processesMatching(`sleep ${sleep}`).length > 0, 30_000);
      await redis.stop();
      const t0 = Date.now();
      const refused = await d.call('deep_task', { prompt: 'while Redis is down', wait_s: 0 });
      expect(refused.isError).toBe(true);
      expect(refused.text).toMatch(/shared task store \(Redis at redis:\/\/127\.0\.0\.1:\d+\/?\) is unreachable/);
      const listed = await e.call('list_tasks', {});
      expect(listed.isError).toBe(true);
      expect(listed.text).toMatch(/unreachable.*retry/);
      // "At once": a refused connection, not ioredis's reconnect loop (quiet: well under 0.5 s; 10x+ for a busy
      // machine).
      expect(Date.now() - t0).toBeLessThan(10_000);
      // The running task finishes while Redis is away.
      await waitFor(() => processesMatching(`sleep ${sleep}`).length === 0, 30_000);
      await new Promise((r) => setTimeout(r, 1500));
      await redis.start();
      for (const node of nodes) {
        const v = await waitForValue(
          async () => {
            const r = await node.call('task_status', { task_id: during });
            return !r.isError && (r as unknown as View).final ? (r as unknown as View) : undefined;
          },
          20_000,
          250,
        );
        expect(v.state).toBe('succeeded');
        expect(v.result?.text).toContain('after-sleep');
        // The server that ran `during` answered from memory; its connection may still be coming back (a retry is at
        // most 2 s away): the first task is read from Redis, so wait for that too.
        const before = await waitForValue(
          async () => {
            const r = await node.call('task_status', { task_id: first.task_id });
            return r.isError ? undefined : r;
          },
          20_000,
          250,
        );
        expect(before.state, before.text).toBe('succeeded');
      }
      // And the cluster takes work again.
      expect(((await e.call('deep_task', { prompt: '[[bash:echo back]]', wait_s: 30 })) as unknown as View).state).toBe(
        'succeeded',
      );
    },
    180_000,
  );
});

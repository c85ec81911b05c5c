import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile } from '../support/harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { startNode, type Node, type View } from './cluster-support.js';

// Issue 19, item 13: valid JSON of the wrong shape in one Redis record made list_tasks and task_status fail for every
// principal ("this is a bug"). Records are checked when read: a bad one is skipped with one log line, and its id reads
// as "unreadable record".
let api: ScriptedApi;
let redis: TestRedis;
let node: Node;

beforeAll(async () => {
  [api, redis] = await Promise.all([startScriptedApi(), startRedis()]);
  node = await startNode('a', api, redis.url, {
    CLAUDE_TIERS_CONFIG: configFile({ tiers: { comprehensive: { mcpConfig: null } } }),
  });
});
afterAll(async () => {
  await node?.close();
  await redis?.close();
  await api?.close();
});

describe('a malformed record in Redis', () => {
  it(
    'request: null, {}, 5 and non-JSON are skipped by list_tasks; task_status works for the others and names ' +
      'the bad ids',
    async () => {
      const good = (await node.call('deep_task', { prompt: '[[text:fine]]', wait_s: 30 })) as unknown as View;
      expect(good.state).toBe('succeeded');
      const conn = redis.client();
      const valid = JSON.parse((await conn.hget(`claude-tiers:task:${good.task_id}`, 'rec'))!) as Record<
        string,
        unknown
      >;
      const bad: Record<string, string> = {
        t_badnullrequest: JSON.stringify({ ...valid, id: 't_badnullrequest', request: null }),
        t_bademptyobject: '{}',
        t_badjustanumber: '5',
        t_badnotjsonatall: '{"state": "running"',
      };
      // Newer than every real task: a listing reads them first.
      const newest = Date.now() + 60_000;
      for (const [id, rec] of Object.entries(bad)) {
        await conn.hset(`claude-tiers:task:${id}`, 'rec', rec, 'state', 'running', 'owner', 'nobody');
        await conn.zadd('claude-tiers:tasks', newest, id);
      }
      for (let round = 0; round < 2; round++) {
        const listed = await node.call('list_tasks', { limit: 20 });
        expect(listed.isError, listed.text).toBeFalsy();
        const ids = (listed.tasks as Array<{ task_id: string }>).map((t) => t.task_id);
        expect(ids).toContain(good.task_id);
        for (const id of Object.keys(bad)) expect(ids).not.toContain(id);
      }
      const status = (await node.call('task_status', { task_id: good.task_id })) as unknown as View & {
        isError?: boolean;
      };
      expect(status.isError).toBeFalsy();
      expect(status.result?.text).toBe('fine');
      for (const id of Object.keys(bad)) {
        const r = await node.call('task_status', { task_id: id });
        expect(r.isError).toBe(true);
        expect(r.text).toMatch(
          new RegExp(`^task_id: ${id} is an unreadable record in the shared store \\(.+\\); listings skip it$`),
        );
        expect(r.text).not.toMatch(/bug/);
      }
      // One log line per bad record, however often it is read.
      for (const id of Object.keys(bad)) {
        const lines = node
          .stderr()
          .split('\n')
          .filter((l) => l.includes('unreadable task record skipped') && l.includes(`"${id}"`));
        expect(lines, id).toHaveLength(1);
      }
    },
  );
});

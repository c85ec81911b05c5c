import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/notify/notifier.js';
import { startNode, TOKEN, type Node } from '../cluster/cluster-support.js';
import { configFile, waitForValue } from '../support/harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';

// Issue 22 in a cluster: the board of any server shows the token's tasks wherever they run, live (the servers'
// change notices reach its feed).
let api: ScriptedApi;
let redis: TestRedis;
let worker: Node;
let front: Node;
let hook: Server;
const received: Notification[] = [];

beforeAll(async () => {
  [api, redis] = await Promise.all([startScriptedApi(), startRedis()]);
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as Notification);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  // Rate limits on: the cluster's buckets are shared, so the headroom any server shows counts calls made on others.
  const config = configFile({
    tiers: { comprehensive: { mcpConfig: null, allowedTools: ['Read'], permissionTimeoutS: 120 } },
    limits: { ratePerMinute: 0.5, rateBurst: 5 },
    notify: { url: hookUrl, secret: 'cluster-notify-secret-0123', backoffMs: 50, events: ['needs_input'] },
  });
  worker = await startNode('a', api, redis.url, { CLAUDE_TIERS_CONFIG: config });
  // The front runs nothing itself: every task runs on the worker.
  front = await startNode('b', api, redis.url, { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_MAX_RUNNING: '0' });
}, 120_000);
afterAll(async () => {
  await Promise.allSettled([worker?.close(), front?.close()]);
  await redis?.close();
  await api?.close();
  await new Promise((r) => hook?.close(r));
});

describe('the board in a cluster', () => {
  it(
    "a task queued on one server and run on another shows on the first server's board, and its changes arrive " +
      'live',
    async () => {
      const base = front.url.replace(/\/mcp$/, '');
      const login = await fetch(`${base}/board/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${TOKEN}`,
      });
      expect(login.status).toBe(303);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const ctl = new AbortController();
      const stream = await fetch(`${base}/board/api/stream`, {
        headers: { cookie, accept: 'text/event-stream' },
        signal: ctl.signal,
      });
      const reader = stream.body!.getReader();
      let text = '';
      const read = async (until: () => boolean) => {
        const end = Date.now() + 60_000;
        while (!until() && Date.now() < end) text += new TextDecoder().decode((await reader.read()).value);
      };
      await read(() => text.includes('event: list'));
      const started = await worker.call('deep_task', { prompt: '[[bash:echo clustered; sleep 1]]', wait_s: 0 });
      const id = started.task_id as string;
      const succeeded = () => new RegExp(`event: rows\\ndata: [^\\n]*"task_id":"${id}","state":"succeeded"`).test(text);
      await read(succeeded);
      ctl.abort();
      expect(text).toMatch(new RegExp(`event: rows\\ndata: [^\\n]*"task_id":"${id}"`));
      expect(succeeded()).toBe(true);
      const list = (await (await fetch(`${base}/board/api/tasks`, { headers: { cookie } })).json()) as {
        rows: Array<{ task_id: string; state: string }>;
      };
      expect(list.rows.find((r) => r.task_id === id)?.state).toBe('succeeded');
      // The operator panel on the front reads the cluster's bucket: the call made on the worker took one of five.
      const ops = (await (await fetch(`${base}/board/api/ops`, { headers: { cookie } })).json()) as {
        rate: { client: number | null; global: number | null } | null;
      };
      expect(ops.rate?.client).toBe(4);
    },
  );

  it('a one-tap link the worker sent works on the front (the servers share one links key), once', async () => {
    // acceptEdits runs plain commands; one that reaches the network needs a decision.
    const tag = `TAP${Date.now().toString(36)}`;
    const started = await worker.call('deep_task', {
      prompt: `[[bash:curl -s http://127.0.0.1:9/; echo ${tag}]]`,
      wait_s: 0,
    });
    const id = started.task_id as string;
    const n = await waitForValue(() => received.find((r) => r.task_id === id && r.event === 'needs_input'), 90_000, 50);
    const frontBase = front.url.replace(/\/mcp$/, '');
    const onFront = (link: string) => `${frontBase}${new URL(link).pathname}`;
    const page = await fetch(onFront(n.links!.allow));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(tag);
    const confirm = await fetch(onFront(n.links!.allow), { method: 'POST', headers: { origin: frontBase } });
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toMatch(/allowed; the task goes on/);
    const done = await waitForValue(
      async () => {
        const r = await worker.call('task_status', { task_id: id, wait_s: 10 });
        return r.state === 'succeeded' || r.state === 'failed' ? r : undefined;
      },
      120_000,
      100,
    );
    expect(done.state).toBe('succeeded');
    // Used once, on either server: the worker refuses it too.
    expect(
      (await fetch(n.links!.allow, { method: 'POST', headers: { origin: new URL(n.links!.allow).origin } })).status,
    ).toBe(410);
  });
});

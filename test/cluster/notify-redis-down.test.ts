import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/notify/notifier.js';
import { configFile, waitForValue } from '../support/harness.js';
import { apiPerFile } from '../support/per-file.js';
import { startRedis } from '../support/redis.js';
import { startNode } from './cluster-support.js';

// A cluster server with notify keeps its one-tap links key in Redis: a Redis that is down when the server starts
// does not stop it (the key is read when first needed); links work once Redis is there.
const file = apiPerFile();
let hook: Server;
let hookUrl = '';
const received: Notification[] = [];

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as Notification);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise((r) => hook?.close(r)));

describe('notify in a cluster whose Redis is down at start', () => {
  it('starts, answers quick_answer, its tap page says Redis is down; links work once Redis is back', async () => {
    const redis = await startRedis({ persist: false });
    file.keep(redis);
    await redis.stop();
    const config = configFile({
      tiers: { comprehensive: { mcpConfig: null, allowedTools: ['Read'], permissionTimeoutS: 120 } },
      notify: { url: hookUrl, secret: 'notify-secret-0123456789', backoffMs: 50, events: ['needs_input'] },
    });
    // startNode resolves once the server printed that it serves.
    const node = await startNode('down', file.api, redis.url, { CLAUDE_TIERS_CONFIG: config });
    file.keep(node);
    const quick = await node.call('quick_answer', { prompt: 'hello while redis is down' });
    expect(quick.isError).toBeFalsy();
    const base = new URL(node.url).origin;
    const early = await fetch(`${base}/tap/t_x.p_x.allow.zz.mac`);
    expect(early.status).toBe(503);
    expect(await early.text()).toMatch(/Redis is not reachable/);

    await redis.start();
    // A task that asks (acceptEdits runs plain commands; one that reaches the network needs a decision).
    const tag = `down${Date.now().toString(36)}`;
    const id = await waitForValue(
      async () => {
        const prompt = `[[bash:curl -s http://127.0.0.1:9/; echo ${tag}]]`;
        const r = await node.call('deep_task', { prompt, wait_s: 0 });
        return r.isError ? undefined : (r.task_id as string);
      },
      30_000,
      250,
    );
    const n = await waitForValue(() => received.find((r) => r.task_id === id && r.event === 'needs_input'), 60_000, 50);
    expect(n.links?.allow).toMatch(/\/tap\//);
    const page = await fetch(n.links!.allow);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(tag);
    await node.call('kill_task', { task_id: id });
  }, 120_000);
});

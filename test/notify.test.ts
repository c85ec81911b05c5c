import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { NotifySchema } from '../src/config/schema.js';
import type { Logger } from '../src/log.js';
import { Notifier, signBody, type Notification } from '../src/notify/notifier.js';
import type { TaskRecord } from '../src/tasks/types.js';
import { signTap, verifyTap } from '../src/notify/one-tap.js';
import {
  configFile,
  processesMatching,
  serverEnv,
  startHttpServer,
  startServer,
  uniqueSleep,
  waitFor,
  waitForValue,
} from './support/harness.js';
import { apiPerFile } from './support/per-file.js';

// notify: a webhook hears of tasks that need input or end, signed; a needs_input carries one-tap links that decide
// that one request, once, through the same path as answer_task.
const shared = apiPerFile();
const TOKEN = 'notify-token-0123456789abcdef';
const SECRET = 'notify-secret-0123456789';
let hook: Server;
const received: Array<{ body: string; ts: string; sig: string; n: Notification }> = [];
let failNext = 0;
let hookUrl = '';
let server: Awaited<ReturnType<typeof startHttpServer>>;
let client: Client;
const uniq = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
// acceptEdits runs plain commands; one that reaches the network needs a decision.
const asking = (tag: string) => `[[bash:curl -s http://127.0.0.1:9/; echo ${tag}]]`;

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (failNext > 0) {
        failNext--;
        res.writeHead(503).end();
        return;
      }
      const ts = String(req.headers['x-claude-tiers-timestamp']);
      received.push({
        body,
        ts,
        sig: String(req.headers['x-claude-tiers-signature']),
        n: JSON.parse(body) as Notification,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  const url = hookUrl;
  const config = configFile({
    tiers: { comprehensive: { mcpConfig: null, allowedTools: ['Read'], permissionTimeoutS: 120 } },
    notify: { url, secret: SECRET, backoffMs: 50, events: ['needs_input', 'succeeded', 'failed', 'killed'] },
  });
  const { env } = await serverEnv(shared.api, { env: { CLAUDE_TIERS_HTTP_TOKEN: TOKEN, CLAUDE_TIERS_CONFIG: config } });
  server = await startHttpServer(env);
  client = new Client({ name: 'notify-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    }),
  );
}, 60_000);
afterAll(async () => {
  await client?.close();
  await server?.close();
  await new Promise((r) => hook?.close(r));
});

const start = async (prompt: string) =>
  (
    (await client.callTool({ name: 'deep_task', arguments: { prompt, wait_s: 0 } })).structuredContent as {
      task_id: string;
    }
  ).task_id;
const notified = (id: string, event: string) =>
  waitForValue(() => received.find((r) => r.n.task_id === id && r.n.event === event), 60_000, 50);
const state = async (id: string) =>
  ((await client.callTool({ name: 'task_status', arguments: { task_id: id } })).structuredContent as { state: string })
    .state;

describe('one-tap tokens', () => {
  it('hold for their one grant until it expires', () => {
    const key = randomBytes(32);
    const grant = {
      taskId: 't_abcd1234',
      requestId: 'p_abcd1234',
      decision: 'allow' as const,
      expiresAt: Date.now() + 60_000,
    };
    expect(verifyTap(key, signTap(key, grant))).toEqual({ grant });
    expect(verifyTap(randomBytes(32), signTap(key, grant))).toEqual({
      refused: 'this link was not signed by this server',
    });
    expect(verifyTap(key, signTap(key, grant), grant.expiresAt + 1)).toMatchObject({
      refused: expect.stringMatching(/expired/),
    });
    expect(verifyTap(key, 'a.b.c')).toMatchObject({
      refused: expect.stringMatching(/not a claude-tiers approval link/),
    });
  });
});

describe('the notify queue', () => {
  it('is bounded: past maxQueue the oldest waiting notification is dropped, and logged', async () => {
    const warned: string[] = [];
    const log = { warn: (_o: unknown, msg: string) => warned.push(msg) } as unknown as Logger;
    const cfg = NotifySchema.parse({ url: 'http://127.0.0.1:9/none', secret: SECRET, attempts: 1, maxQueue: 2 });
    const notifier = new Notifier(cfg, async () => randomBytes(32), log);
    const rec = (i: number) =>
      ({
        id: `t_queue${i}`,
        state: 'failed',
        request: { tier: 'speed', model: 'haiku', cwd: '/', prompt: 'p' },
        stats: { costUsd: 0 },
        end: { reason: 'error', message: 'x' },
      }) as unknown as TaskRecord;
    for (let i = 0; i < 5; i++) notifier.observe(rec(i));
    notifier.observe(rec(4));
    expect(warned.filter((m) => /queue full/.test(m))).toHaveLength(2);
    await notifier.close(5000);
  });
});

describe('notify', () => {
  it('signs each notification, retries a webhook that fails, and says when a task succeeds', async () => {
    failNext = 2;
    const id = await start(`[[text:done ${uniq()}]]`);
    const got = await notified(id, 'succeeded');
    expect(got.sig).toBe(signBody(SECRET, got.ts, got.body));
    expect(got.sig).not.toBe(signBody('another-secret-0123456789', got.ts, got.body));
    expect(got.n).toMatchObject({ task_id: id, state: 'succeeded', tier: 'comprehensive' });
    expect(received.filter((r) => r.n.task_id === id)).toHaveLength(1);
  });

  it(
    'a needs_input notification carries the whole request and allow/deny links; a link shows it, decides ' +
      'once, then is refused',
    async () => {
      const tag = `T${uniq()}`;
      const id = await start(asking(`${'x'.repeat(300)} ${tag}`));
      const n = (await notified(id, 'needs_input')).n;
      expect(JSON.stringify(n.input_request?.input)).toContain(tag);
      expect(n.links?.allow).toMatch(/\/tap\//);
      const page = await fetch(n.links!.allow);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain(tag);
      expect(html).toContain('<form method="post">');
      // Opening the link decides nothing.
      expect(await state(id)).toBe('needs_input');
      const origin = new URL(n.links!.allow).origin;
      const confirm = await fetch(n.links!.allow, { method: 'POST', headers: { origin } });
      expect(confirm.status).toBe(200);
      expect(await confirm.text()).toMatch(/allowed; the task goes on/);
      await notified(id, 'succeeded');
      const again = await fetch(n.links!.allow, { method: 'POST', headers: { origin } });
      expect(again.status).toBe(410);
      expect((await fetch(n.links!.deny, { method: 'POST', headers: { origin } })).status).toBe(410);
    },
  );

  it('a deny link passes its message to claude; a tampered, foreign-origin or expired link is refused', async () => {
    const id = await start(asking(`d${uniq()}`));
    const n = (await notified(id, 'needs_input')).n;
    const tampered = n.links!.deny.replace('.deny.', '.allow.');
    expect((await fetch(tampered, { method: 'POST' })).status).toBe(403);
    const cross = await fetch(n.links!.deny, { method: 'POST', headers: { origin: 'https://evil.example.com' } });
    expect(cross.status).toBe(403);
    expect(await state(id)).toBe('needs_input');
    const [base, token] = n.links!.deny.split('/tap/') as [string, string];
    const parts = token.split('.');
    parts[3] = (Date.now() + 3_600_000).toString(36);
    const stretched = await fetch(`${base}/tap/${parts.join('.')}`);
    expect(stretched.status).toBe(403);
    expect(await stretched.text()).toMatch(/not signed by this server/);
    const reason = `NO_${uniq()}`;
    const body = new URLSearchParams({ message: reason });
    const denied = await fetch(n.links!.deny, {
      method: 'POST',
      body,
      headers: { origin: new URL(n.links!.deny).origin },
    });
    expect(denied.status).toBe(200);
    await notified(id, 'succeeded');
    expect(shared.api.requests.some((r) => JSON.stringify(r.messages).includes(reason))).toBe(true);
  });

  it('a task whose server was SIGKILLed is notified as lost by the server that finds it', async () => {
    const config = configFile({
      tiers: { comprehensive: { mcpConfig: null } },
      notify: { url: hookUrl, secret: SECRET, backoffMs: 50, events: ['lost'] },
    });
    const first = await startServer(shared.api, { env: { CLAUDE_TIERS_CONFIG: config } });
    const marker = uniqueSleep(120);
    const r = await first.client.callTool({
      name: 'deep_task',
      arguments: { prompt: `[[bash:echo x; sleep ${marker}]]`, wait_s: 0 },
    });
    const id = (r.structuredContent as { task_id: string }).task_id;
    await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 30_000);
    process.kill(first.pid, 'SIGKILL');
    await first.close().catch(() => {});
    const second = await startServer(shared.api, {
      stateDir: first.stateDir,
      home: first.home,
      env: { CLAUDE_TIERS_CONFIG: config },
    });
    try {
      const got = await notified(id, 'lost');
      expect(got.sig).toBe(signBody(SECRET, got.ts, got.body));
      expect(got.n.error).toMatch(/stopped before the task finished/);
    } finally {
      await second.close();
    }
  });

  it(
    'a path that URL parsing would change never passes as a one-tap page: /tap/../mcp is refused, not served ' +
      'as /mcp',
    async () => {
      const { request } = await import('node:http');
      const u = new URL(server.url);
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
      const raw = (path: string) =>
        new Promise<number>((resolve, reject) => {
          const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
          const r = request({ host: u.hostname, port: u.port, path, method: 'POST', headers }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          r.on('error', reject);
          r.end(body);
        });
      for (const path of ['/tap/../mcp', '/tap/%2e%2e/mcp', '/tap/%2E%2E/metrics', '/tap/..%2fmcp', '/tap/./../mcp'])
        expect(await raw(path), path).toBe(400);
      expect(await raw('/mcp')).toBe(401);
    },
  );
});

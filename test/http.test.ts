import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedApi, type ScriptedApi } from './support/scripted-api.js';
import { processesMatching, serverEnv, startHttpServer, uniqueSleep, waitFor } from './support/harness.js';

let api: ScriptedApi;
let closeServer: (() => Promise<void>) | undefined;
let url: string;
const TOKEN = 'test-token-0123456789abcdef';

async function connect(era: 'legacy' | 'modern' = 'legacy'): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
  });
  const client = new Client(
    { name: 'http-test', version: '1' },
    era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(transport);
  return client;
}

beforeAll(async () => {
  api = await startScriptedApi();
  const { env } = await serverEnv(api, { env: { CLAUDE_TIERS_HTTP_TOKEN: TOKEN } });
  const started = await startHttpServer(env);
  url = started.url;
  closeServer = started.close;
});
afterAll(async () => {
  await closeServer?.();
  await api?.close();
});

describe('Streamable HTTP', () => {
  it('refuses a request without the bearer token (401) and a wrong Host header', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const none = await fetch(url, { method: 'POST', headers, body });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await fetch(url, { method: 'POST', headers: { ...headers, authorization: 'Bearer nope' }, body });
    expect(wrong.status).toBe(401);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      const u = new URL(url);
      const r = request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { ...headers, authorization: `Bearer ${TOKEN}`, host: 'evil.example.com' },
        },
        (res) => resolve(res.statusCode ?? 0),
      );
      r.end(body);
    });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).not.toBe(401);
  });

  it('two sessions share the registry: a task started by one is visible to the other', async () => {
    const a = await connect();
    const b = await connect('modern');
    try {
      const started = await a.callTool({
        name: 'deep_task',
        arguments: { prompt: '[[bash:echo shared; sleep 1]]', wait_s: 0 },
      });
      const id = (started.structuredContent as { task_id: string }).task_id;
      let v = (await b.callTool({ name: 'task_status', arguments: { task_id: id } })).structuredContent as {
        state: string;
        final: boolean;
        cursor: number;
        result?: { text: string };
      };
      while (!v.final)
        v = (await b.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 10, cursor: v.cursor } }))
          .structuredContent as typeof v;
      expect(v.state).toBe('succeeded');
      expect(v.result?.text).toBe('done: shared');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('streams progress over SSE', async () => {
    const c = await connect();
    try {
      const progress: string[] = [];
      const r = await c.callTool(
        { name: 'deep_task', arguments: { prompt: '[[bash:echo sse; sleep 1]][[bash:echo two]]', wait_s: 30 } },
        { onprogress: (p) => progress.push(p.message ?? ''), timeout: 60_000 },
      );
      expect((r.structuredContent as { state: string }).state).toBe('succeeded');
      expect(progress.some((m) => /Bash: echo sse/.test(m))).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('native MCP tasks over HTTP: a handle from deep_task, tasks/get to completion, tasks/cancel', async () => {
    const EXT = 'io.modelcontextprotocol/tasks';
    const _meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { extensions: { [EXT]: {} } },
    };
    let id = 0;
    // One 2026-07-28 request as a plain fetch (the SDK Client refuses task results); the reply may come as JSON or one
    // SSE event.
    const rpc = async (method: string, name: string, params: Record<string, unknown>) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${TOKEN}`,
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': method,
          'mcp-name': name,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params: { ...params, _meta } }),
      });
      const text = await res.text();
      const mine = id;
      type Reply = { id?: number; result?: Record<string, unknown>; error?: { code: number } };
      if (!res.headers.get('content-type')?.includes('text/event-stream')) return JSON.parse(text) as Reply;
      // An SSE reply may carry notifications first: take the message that answers this request.
      const replies = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as Reply);
      return replies.find((r) => r.id === mine)!;
    };
    const started = await rpc('tools/call', 'deep_task', {
      name: 'deep_task',
      arguments: { prompt: '[[bash:echo over-http]]' },
    });
    expect(started.result).toMatchObject({ resultType: 'task', status: 'working' });
    const taskId = String(started.result!.taskId);
    let got = await rpc('tasks/get', taskId, { taskId });
    const end = Date.now() + 30_000;
    while (got.result?.status === 'working' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      got = await rpc('tasks/get', taskId, { taskId });
    }
    expect(got.result?.status).toBe('completed');
    expect(JSON.stringify(got.result?.result)).toContain('over-http');
    // The task belongs to this token's client: an HTTP session with the same token sees it through task_status too.
    const c = await connect();
    try {
      const v = await c.callTool({ name: 'task_status', arguments: { task_id: taskId } });
      expect((v.structuredContent as { state: string }).state).toBe('succeeded');
    } finally {
      await c.close();
    }
    const marker = uniqueSleep(20);
    const slow = await rpc('tools/call', 'deep_task', {
      name: 'deep_task',
      arguments: { prompt: `[[bash:echo started; sleep ${marker}]]` },
    });
    const slowId = String(slow.result!.taskId);
    expect(await waitFor(() => processesMatching(`sleep ${marker}`).length > 0, 20_000)).toBe(true);
    expect((await rpc('tasks/cancel', slowId, { taskId: slowId })).error).toBeUndefined();
    let after = await rpc('tasks/get', slowId, { taskId: slowId });
    expect(
      await waitFor(
        async () => (after = await rpc('tasks/get', slowId, { taskId: slowId })).result?.status !== 'working',
        10_000,
      ),
    ).toBe(true);
    expect(after.result?.status).toBe('cancelled');
    expect(await waitFor(() => processesMatching(`sleep ${marker}`).length === 0, 15_000)).toBe(true);
  });
});

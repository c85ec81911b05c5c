import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideReply, textOf, userWords, type Reply } from './scripted-api-scenario.js';

// One request the scripted API received, for tests that assert what claude asked.
export interface RecordedRequest {
  method: string;
  path: string;
  model?: string;
  system?: unknown;
  systemText: string;
  tools: string[];
  messages: unknown[];
  firstUserText: string;
  lastUserText: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  at: number;
}

// A local Anthropic Messages API whose answers are scripted by markers in the prompt (see scripted-api.md).
export interface ScriptedApi {
  url: string;
  port: number;
  requests: RecordedRequest[];
  messageRequests(filter?: (r: RecordedRequest) => boolean): RecordedRequest[];
  reset(): void;
  close(): Promise<void>;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let nextId = 0;

function sse(res: ServerResponse, event: string, data: unknown): void {
  if (!res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function messageStart(model: string, inputTokens: number) {
  return {
    type: 'message_start',
    message: {
      id: `msg_scripted_${++nextId}`,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: inputTokens,
        output_tokens: 1,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    },
  };
}

async function streamReply(res: ServerResponse, reply: Reply, model: string): Promise<void> {
  if (reply.kind === 'error') {
    res.writeHead(reply.status, { 'content-type': 'application/json', 'request-id': `req_scripted_${++nextId}` });
    res.end(
      JSON.stringify({
        type: 'error',
        error: { type: ERROR_TYPES[reply.status] ?? 'api_error', message: `scripted ${reply.status} error` },
      }),
    );
    return;
  }
  if (reply.kind === 'hang') return;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  if (reply.kind === 'malformed') {
    res.end(
      'event: message_start\ndata: {"type":"message_start","message":{not json\n\nevent: ???\ndata: ' +
        '[[[\n\ngarbage line without fields\n\n',
    );
    return;
  }
  if (reply.kind === 'stall' || reply.kind === 'cut') {
    sse(res, 'message_start', messageStart(model, 10));
    sse(res, 'content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    sse(res, 'content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'partial answer, then ' },
    });
    if (reply.kind === 'cut') setTimeout(() => res.socket?.destroy(), 50);
    return;
  }
  const [inTok, outTok] = reply.usage;
  sse(res, 'message_start', messageStart(model, inTok));
  if (reply.kind === 'tool') {
    const id = `toolu_scripted_${++nextId}`;
    sse(res, 'content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'tool_use', id, name: reply.name, input: {} },
    });
    sse(res, 'content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'input_json_delta', partial_json: JSON.stringify(reply.input) },
    });
    sse(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
    sse(res, 'message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: inTok, output_tokens: outTok },
    });
    sse(res, 'message_stop', { type: 'message_stop' });
    res.end();
    return;
  }
  sse(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  const size = reply.chunk > 0 ? reply.chunk : Math.max(1, reply.text.length);
  for (let i = 0; i < reply.text.length || i === 0; i += size) {
    if (i > 0 && reply.delayMs) await sleep(reply.delayMs);
    sse(res, 'content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: reply.text.slice(i, i + size) },
    });
    if (reply.text.length === 0) break;
  }
  sse(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
  sse(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { input_tokens: inTok, output_tokens: outTok },
  });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

function jsonReply(res: ServerResponse, reply: Reply, model: string): void {
  if (reply.kind === 'error') {
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        type: 'error',
        error: { type: ERROR_TYPES[reply.status] ?? 'api_error', message: `scripted ${reply.status} error` },
      }),
    );
    return;
  }
  if (reply.kind === 'hang' || reply.kind === 'stall') return;
  // claude retries a broken stream as a non-streaming request: break that one the same way.
  if (reply.kind === 'cut') {
    res.socket?.destroy();
    return;
  }
  if (reply.kind === 'malformed') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id": "msg_broken", "content": [ not json');
    return;
  }
  const content =
    reply.kind === 'tool'
      ? [{ type: 'tool_use', id: `toolu_scripted_${++nextId}`, name: reply.name, input: reply.input }]
      : [{ type: 'text', text: reply.kind === 'text' ? reply.text : 'ok' }];
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: `msg_scripted_${++nextId}`,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: reply.kind === 'tool' ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 5 },
    }),
  );
}

function record(req: IncomingMessage, body: Record<string, unknown>): RecordedRequest {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: string; content?: unknown }>) : [];
  const users = messages.filter((m) => m.role === 'user');
  const system = body.system;
  return {
    method: req.method ?? '',
    path: req.url ?? '',
    model: typeof body.model === 'string' ? body.model : undefined,
    system,
    systemText: typeof system === 'string' ? system : textOf(system),
    tools: Array.isArray(body.tools) ? (body.tools as Array<{ name?: string }>).map((t) => t.name ?? '') : [],
    messages,
    firstUserText: userWords(users[0]?.content),
    lastUserText: userWords(users[users.length - 1]?.content),
    body,
    headers: req.headers,
    at: Date.now(),
  };
}

// Starts the scripted API on 127.0.0.1 with a random port.
export async function startScriptedApi(options: { host?: string } = {}): Promise<ScriptedApi> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'POST') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
        return;
      }
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        /* leave empty */
      }
      if (path === '/v1/messages/count_tokens') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ input_tokens: 42 }));
        return;
      }
      if (path !== '/v1/messages') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no route ${path}` } }));
        return;
      }
      requests.push(record(req, body));
      // Counted per test file by test/support/profile-setup.ts, when that profiler is loaded.
      (globalThis as { __ctProfile?: (h: unknown, b: unknown) => void }).__ctProfile?.(req.headers, body);
      const reply = decideReply(body as Parameters<typeof decideReply>[0]);
      const model = typeof body.model === 'string' ? body.model : 'claude-scripted';
      if (body.stream === true) void streamReply(res, reply, model).catch(() => res.destroy());
      else jsonReply(res, reply, model);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    messageRequests: (filter) => requests.filter((r) => r.path.startsWith('/v1/messages') && (!filter || filter(r))),
    reset: () => {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// The environment that makes claude talk to this API offline.
export function claudeEnv(api: ScriptedApi, home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('ANTHROPIC_') && !k.startsWith('CLAUDE_')) env[k] = v;
  return {
    ...env,
    HOME: home,
    ANTHROPIC_BASE_URL: api.url,
    ANTHROPIC_API_KEY: 'sk-test',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    // Claude's temp dir (default /tmp/claude-<uid>) is shared by every claude of the user: a sandboxed one binds a
    // settings file named by its content there, which another run with the same settings may remove meanwhile
    // ("bwrap: Can't get type of source"). One per HOME keeps concurrent test files apart.
    CLAUDE_CODE_TMPDIR: join(home, 'tmp'),
    ...extra,
  };
}

// A fresh empty directory to use as claude's HOME.
export async function makeTempHome(): Promise<string> {
  return mkdtempSync(join(tmpdir(), 'ct-home-'));
}

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile, serverEnv, startHttpServer, textOf } from '../support/harness.js';
import { apiPerFile } from '../support/per-file.js';

// The cap on resource subscriptions (100) was per client, and over HTTP a client was the token plus whatever
// Mcp-Session-Id header it sent: the server holds no session, so any value was a new client with a fresh cap. One
// token then followed one running task from as many "clients" as it liked, each holding a watcher and a server
// instance until the task ended. (HTTP now offers no resources/subscribe at all: it never delivered an update.)
const file = apiPerFile();
const TOKEN = 'sub-token-0123456789abcdefghij';
let server: Awaited<ReturnType<typeof startHttpServer>>;
let client: Client;

beforeAll(async () => {
  const config = configFile({ tiers: { comprehensive: { mcpConfig: null } } });
  const { env } = await serverEnv(file.api, { env: { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_HTTP_TOKEN: TOKEN } });
  server = await startHttpServer(env);
  file.keep(server);
  client = new Client({ name: 'attack', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    }),
  );
});
afterAll(async () => {
  await client?.close();
});

describe('resource subscriptions of one token', () => {
  it('are capped for the token, not per Mcp-Session-Id value it makes up', async () => {
    const r = await client.callTool({ name: 'deep_task', arguments: { prompt: '[[hang]]', wait_s: 0 } });
    const id = (r as { structuredContent: { task_id: string } }).structuredContent.task_id;
    expect(textOf(r)).toContain(id);
    const uri = `claude-tiers://tasks/${id}/events`;
    let accepted = 0;
    for (let i = 0; i < 250; i++) {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': `made-up-${i}`,
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'resources/subscribe', params: { uri } }),
      });
      const body = await res.text();
      if (res.status === 200 && !body.includes('"error"')) accepted++;
    }
    await client.callTool({ name: 'kill_task', arguments: { task_id: id } });
    expect(accepted).toBeLessThanOrEqual(100);
  }, 120_000);
});

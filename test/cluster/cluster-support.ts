import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { serverEnv, startHttpServer } from '../support/harness.js';
import type { ScriptedApi } from '../support/scripted-api.js';

export const TOKEN = 'cluster-test-token-0123456789';

// One claude-tiers HTTP server of a test cluster: its own state dir and HOME (a machine of its own), one MCP client.
export interface Node {
  name: string;
  pid: number;
  /** Its MCP endpoint (…/mcp). */
  url: string;
  stateDir: string;
  client: Client;
  stderr(): string;
  call(name: string, args: Record<string, unknown>): Promise<Result>;
  /** The same server through another bearer token (another principal). */
  as(token: string): Promise<(name: string, args: Record<string, unknown>) => Promise<Result>>;
  close(): Promise<void>;
}

// A tool result: its structured content, whether it is an error, and its text.
export type Result = Record<string, unknown> & { isError?: boolean; text: string };

async function connect(url: string, token: string, name: string): Promise<{ client: Client; call: Node['call'] }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name, version: '1' });
  await client.connect(transport);
  const call = async (tool: string, args: Record<string, unknown>): Promise<Result> => {
    const r = await client.callTool({ name: tool, arguments: args });
    const text = (r.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? '').join('\n');
    return {
      ...((r.structuredContent as Record<string, unknown>) ?? {}),
      isError: r.isError as boolean | undefined,
      text,
    };
  };
  return { client, call };
}

export async function startNode(
  name: string,
  api: ScriptedApi,
  redisUrl: string,
  extra: Record<string, string> = {},
): Promise<Node> {
  const stateDir = mkdtempSync(join(tmpdir(), `ct-${name}-`));
  const { env } = await serverEnv(api, {
    stateDir,
    env: { CLAUDE_TIERS_HTTP_TOKEN: TOKEN, CLAUDE_TIERS_REDIS_URL: redisUrl, CLAUDE_TIERS_MAX_RUNNING: '2', ...extra },
  });
  const http = await startHttpServer(env);
  const { client, call } = await connect(http.url, TOKEN, `cluster-${name}`);
  const others: Client[] = [];
  return {
    name,
    pid: http.proc.pid!,
    url: http.url,
    stateDir,
    client,
    stderr: http.stderr,
    call,
    async as(token) {
      const other = await connect(http.url, token, `cluster-${name}-other`);
      others.push(other.client);
      return other.call;
    },
    async close() {
      for (const c of [client, ...others]) await c.close().catch(() => {});
      await http.close();
    },
  };
}

// A task's view as task_status gives it: the one view shape.
export type { TaskView as View } from '../support/views.js';

// The server whose state dir holds a task's log: the one that ran it.
export const ranOn = (nodes: Node[], id: string): Node | undefined =>
  nodes.find((n) => readdirSync(join(n.stateDir, 'tasks')).includes(id));

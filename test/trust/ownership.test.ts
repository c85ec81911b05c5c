import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome, startScriptedApi, type ScriptedApi } from '../support/scripted-api.js';
import { serverEnv, startHttpServer, startServer, textOf, type StartedServer } from '../support/harness.js';

// Issue 11, finding 7: tasks belong to who started them. A stdio task (the local user) is invisible over HTTP; one
// token's tasks are invisible to another token; an admin token sees and acts on every task.
let api: ScriptedApi;
let stdio: StartedServer;
let url: string;
let closeHttp: (() => Promise<void>) | undefined;
const MAIN = 'main-token-0123456789abcdef';
const ALICE = 'alice-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';

async function as(token: string): Promise<Client> {
  const client = new Client({ name: 'ownership-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
  );
  return client;
}
const idOf = (r: unknown) => (r as { structuredContent: { task_id: string } }).structuredContent.task_id;
const listed = async (c: Client) =>
  (
    (await c.callTool({ name: 'list_tasks', arguments: { limit: 200 } })).structuredContent as {
      tasks: Array<{ task_id: string; prompt_preview: string }>;
    }
  ).tasks;

beforeAll(async () => {
  api = await startScriptedApi();
  const stateDir = mkdtempSync(join(tmpdir(), 'ct-own-'));
  const home = await makeTempHome();
  const config = join(mkdtempSync(join(tmpdir(), 'ct-own-cfg-')), 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      tiers: { comprehensive: { mcpConfig: null } },
      httpTokens: [
        { name: 'alice', token: ALICE },
        { name: 'ops', token: ADMIN, admin: true },
      ],
    }),
  );
  stdio = await startServer(api, { stateDir, home, env: { CLAUDE_TIERS_CONFIG: config } });
  const http = await startHttpServer(
    (await serverEnv(api, { stateDir, home, env: { CLAUDE_TIERS_CONFIG: config, CLAUDE_TIERS_HTTP_TOKEN: MAIN } })).env,
  );
  url = http.url;
  closeHttp = http.close;
});
afterAll(async () => {
  await closeHttp?.();
  await stdio?.close();
  await api?.close();
});

describe('ownership', () => {
  it(
    'a stdio task with a private prompt is not readable over HTTP; tokens do not see each other; an admin ' +
      'sees all',
    async () => {
      const local = idOf(
        await stdio.client.callTool({
          name: 'deep_task',
          arguments: { prompt: 'PRIVATE_LOCAL_PROMPT [[text:local]]', wait_s: 10 },
        }),
      );
      const main = await as(MAIN);
      const alice = await as(ALICE);
      const ops = await as(ADMIN);
      try {
        const mine = idOf(
          await main.callTool({
            name: 'deep_task',
            arguments: { prompt: 'MAIN_TOKEN_PROMPT [[bash:echo x; sleep 20]]', wait_s: 0 },
          }),
        );
        // list_tasks, task_status, resources/list, resources/read: nothing of the local task, nor of another token's.
        expect((await listed(main)).map((t) => t.task_id)).not.toContain(local);
        expect((await listed(alice)).map((t) => t.task_id)).toEqual([]);
        const status = await alice.callTool({ name: 'task_status', arguments: { task_id: mine } });
        expect(status.isError).toBe(true);
        expect(textOf(status)).toMatch(/no task/);
        expect(textOf(await main.callTool({ name: 'task_status', arguments: { task_id: local } }))).toMatch(/no task/);
        expect((await main.listResources()).resources.map((r) => r.uri).join(' ')).not.toContain(local);
        await expect(main.readResource({ uri: `claude-tiers://tasks/${local}/events` })).rejects.toThrow(
          /unknown resource/,
        );
        // Another token cannot kill it; its owner and an admin can see it; the admin sees every task.
        const refused = await alice.callTool({ name: 'kill_task', arguments: { task_id: mine } });
        expect(refused.isError).toBe(true);
        expect((await listed(ops)).map((t) => t.task_id)).toEqual(expect.arrayContaining([local, mine]));
        const killed = await ops.callTool({ name: 'kill_task', arguments: { task_id: mine } });
        expect((killed.structuredContent as { state: string }).state).toBe('killed');
        // The CLI's view (the local user) is the stdio server's: it sees the local task, not the token's.
        const localList = await stdio.client.callTool({ name: 'list_tasks', arguments: {} });
        expect(textOf(localList)).toContain(local);
        expect(textOf(localList)).not.toContain(mine);
      } finally {
        await Promise.all([main.close(), alice.close(), ops.close()]);
      }
    },
  );
});

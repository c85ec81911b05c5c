import { appendFileSync, mkdtempSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFile, serverEnv, startHttpServer, textOf } from './support/harness.js';
import { apiPerFile } from './support/per-file.js';

// Issue 19 review, low findings: over HTTP every request is served by a fresh server instance, so a client's
// resource subscriptions were counted nowhere (no cap); and reading a task's event log read the whole file.
const file = apiPerFile();
const TOKEN = 'res-token-0123456789abcdefghij';
const CAP = 100;

type Server = Awaited<ReturnType<typeof startHttpServer>>;
let server: Server;
let stateDir: string;
let client: Client;

const structured = <T>(r: unknown) => (r as { structuredContent: T }).structuredContent;
const eventsUri = (id: string) => `claude-tiers://tasks/${id}/events`;

async function deepTask(prompt: string): Promise<string> {
  const r = await client.callTool({ name: 'deep_task', arguments: { prompt, wait_s: 0 } });
  expect(r.isError, textOf(r)).toBeFalsy();
  return structured<{ task_id: string }>(r).task_id;
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'ct-res-'));
  const config = configFile({
    tiers: { comprehensive: { mcpConfig: null } },
    limits: { ratePerMinute: 100_000, rateBurst: 1000 },
  });
  const { env } = await serverEnv(file.api, {
    stateDir,
    env: {
      CLAUDE_TIERS_CONFIG: config,
      CLAUDE_TIERS_HTTP_TOKEN: TOKEN,
      CLAUDE_TIERS_MAX_RUNNING: '1',
      CLAUDE_TIERS_MAX_QUEUE: '200',
    },
  });
  server = await startHttpServer(env);
  file.keep(server);
  client = new Client({ name: 'resources-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    }),
  );
});
afterAll(async () => {
  await client?.close();
});

describe('task event logs over HTTP', () => {
  it('a read serves only the tail of a log far larger than memory should hold (a 3 GiB sparse file)', async () => {
    const id = await deepTask('[[text:short answer]]');
    let v = structured<{ final: boolean; cursor: number }>(
      await client.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 30 } }),
    );
    while (!v.final)
      v = structured(
        await client.callTool({ name: 'task_status', arguments: { task_id: id, wait_s: 10, cursor: v.cursor } }),
      );
    const path = join(stateDir, 'tasks', id, 'events.jsonl');
    truncateSync(path, 3 * 1024 ** 3);
    const tail = '{"type":"tail","n":1}\n{"type":"tail","n":2}\n';
    appendFileSync(path, `\n${tail}`);
    expect(statSync(path).size).toBeGreaterThan(3 * 1024 ** 3);
    const read = await client.readResource({ uri: eventsUri(id) });
    const text = (read.contents[0] as { text: string }).text;
    // The last MiB, from its first whole line: the lines after the 3 GiB of zeros.
    expect(text).toBe(tail);
  });

  it(`one client follows at most ${CAP} event logs, across its requests; an unsubscribe frees one`, async () => {
    // One task holds the only running slot (its model never answers); the others wait in the queue (not final).
    const ids = [await deepTask('[[hang]]')];
    for (let i = 0; i < CAP; i++) ids.push(await deepTask(`[[text:queued ${i}]]`));
    for (const id of ids.slice(0, CAP)) await client.subscribeResource({ uri: eventsUri(id) });
    // Subscribing again to one it follows is no new subscription.
    await client.subscribeResource({ uri: eventsUri(ids[0]!) });
    const over = eventsUri(ids[CAP]!);
    await expect(client.subscribeResource({ uri: over })).rejects.toThrow(
      /too many subscriptions.*100 task event logs/,
    );
    await expect(client.subscribeResource({ uri: over })).rejects.toMatchObject({ code: -32602 });
    await client.unsubscribeResource({ uri: eventsUri(ids[1]!) });
    await client.subscribeResource({ uri: over });
    await expect(client.subscribeResource({ uri: eventsUri(ids[1]!) })).rejects.toThrow(/too many subscriptions/);
  });
});
